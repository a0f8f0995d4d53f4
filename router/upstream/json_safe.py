"""Values JSON can parse but the upstream request cannot carry: refused up front with 400.

Python's JSON parser accepts integers of any size, ``Infinity``/``NaN``/``1e309`` and
lone UTF-16 surrogates (``"\\ud800"``); orjson cannot serialise the first and last and
would silently send ``null`` for the others. Each is the caller's mistake, so the
router answers 400 naming the field instead of failing inside the upstream call.

Almost every request has none of them, and one ``orjson.dumps`` (C) shows that: it
refuses the integers and the surrogates, and writes non-finite numbers as ``null``, so
output that encodes and holds no ``null`` at all had none. Only other payloads are walked
in Python (a request that sends a ``null``, or a "null" in its text, just takes the walk)
to name the field.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import orjson

from router.errors import InvalidRequestError

INT_MIN = -(2**63)
INT_MAX = 2**64 - 1


def _problem(value: Any) -> str | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int) and not INT_MIN <= value <= INT_MAX:
        return "the integer does not fit in 64 bits"
    if isinstance(value, float) and not math.isfinite(value):
        return "the number is not finite"
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return "the text is not valid Unicode (a lone UTF-16 surrogate)"
    return None


def _child(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def _find(value: Any, path: str) -> tuple[str, str] | None:
    """The first (param, problem) inside ``value``, depth first."""
    problem = _problem(value)
    if problem is not None:
        return path, problem
    items: list[tuple[str | int, Any]] = []
    if isinstance(value, Mapping):
        for key in value:
            if isinstance(key, str) and _problem(key) is not None:
                return path, "a key is not valid Unicode"
        items = list(value.items())
    elif isinstance(value, list | tuple):
        items = list(enumerate(value))
    for key, child in items:
        found = _find(child, _child(path, key))
        if found is not None:
            return found
    return None


def check_json_safe(payload: Mapping[str, Any]) -> None:
    """Raise ``InvalidRequestError`` (with ``param``) for a value the wire cannot carry."""
    try:
        if b"null" not in orjson.dumps(payload):
            return  # encodable, and no NaN or infinity became a null
    except TypeError:
        pass  # an integer over 64 bits or a lone surrogate: the walk names it
    found = _find(payload, "")
    if found is not None:
        param, problem = found
        raise InvalidRequestError(f"Invalid value for {param!r}: {problem}.", param=param or None)
