"""``check_json_safe``'s one-call fast path decides exactly as the walk over the payload."""

from __future__ import annotations

import math
from typing import Any

import pytest

from router.errors import InvalidRequestError
from router.upstream.json_safe import _find, check_json_safe

CHAT = {"model": "auto", "messages": [{"role": "user", "content": "hi"}]}

PAYLOADS: list[dict[str, Any]] = [
    CHAT,
    {**CHAT, "temperature": 0.2, "stop": ["\n", "END"], "seed": 2**64 - 1},
    {**CHAT, "seed": -(2**63), "metadata": {"k": [1, 2.5, True, None]}},
    {**CHAT, "stop": ["null"], "temperature": math.nan},  # a "null" in text, and a NaN
    {**CHAT, "user": None, "top_p": math.inf},  # a sent null beside an infinity
    {**CHAT, "user": None},  # a null alone: walked, and fine
    {**CHAT, "messages": [{"role": "user", "content": "null"}]},
    {**CHAT, "seed": 2**64},
    {**CHAT, "logit_bias": {"50256": -(2**63) - 1}},
    {**CHAT, "stop": ["ok", "\ud800"]},
    {**CHAT, "metadata": {"\udc00": 1}},
    {**CHAT, "metadata": {"deep": [[[-math.inf]]]}},
]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_fast_path_agrees_with_the_walk(payload: dict[str, Any]) -> None:
    expected = _find(payload, "")
    if expected is None:
        check_json_safe(payload)  # must not raise
        return
    with pytest.raises(InvalidRequestError) as raised:
        check_json_safe(payload)
    assert raised.value.param == (expected[0] or None)
    assert expected[1] in str(raised.value)


def test_every_problem_kind_is_still_caught() -> None:
    problems = [_find(p, "") for p in PAYLOADS]
    kinds = {found[1] for found in problems if found is not None}
    assert kinds == {
        "the number is not finite",
        "the integer does not fit in 64 bits",
        "the text is not valid Unicode (a lone UTF-16 surrogate)",
        "a key is not valid Unicode",
    }
    assert sum(found is None for found in problems) == 5
