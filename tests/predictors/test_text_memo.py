"""Remembered token counts: the same numbers, each long text and each block counted once,
bounded size, no text kept."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor

from predictors.blocks import last_block_start, split_blocks
from predictors.prompts import last_user_text, prompt_text
from predictors.text_memo import TextMemo
from predictors.tokens import (
    BLOCK_COUNTS,
    MESSAGE_COUNTS,
    count_blocks,
    count_message_tokens,
    count_tokens,
)
from tests.predictors.texts import fuzz_texts, routerbench_texts


class Counting:
    """A counter (characters / 4) that remembers what it was asked."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def __call__(self, text: str) -> int:
        self.calls.append(text)
        return len(text) // 4


def test_a_long_text_is_counted_once_and_a_short_one_every_time() -> None:
    counter = Counting()
    cache = TextMemo(counter, min_chars=10, max_entries=10)
    long, short = "x" * 40, "short"
    assert [cache.get(long) for _ in range(3)] == [10, 10, 10]
    assert [cache.get(short) for _ in range(2)] == [1, 1]
    assert counter.calls == [long, short, short]
    assert (cache.hits, len(cache)) == (2, 1)
    assert cache.get("y" * 40) == 10 and counter.calls[-1] == "y" * 40  # same length, new text


def test_the_least_recently_used_go_first_and_the_size_holds() -> None:
    counter = Counting()
    cache = TextMemo(counter, min_chars=1, max_entries=2)
    a, b, c = "a" * 40, "b" * 40, "c" * 40
    cache.get(a)
    cache.get(b)
    cache.get(a)  # a is now the most recently used
    cache.get(c)  # three entries: b goes
    assert len(cache) == 2
    cache.get(a)
    cache.get(b)  # counted again
    assert counter.calls == [a, b, c, b]


def test_no_text_is_kept() -> None:
    cache = TextMemo(Counting(), min_chars=1)
    secret = "my password is hunter2, " * 20
    cache.get(secret)
    assert not any(isinstance(part, str) for key in cache._values for part in key)


def test_threads_counting_together_get_the_right_counts() -> None:
    cache = TextMemo(Counting(), min_chars=1, max_entries=100)
    texts = [str(n) * (20 + n) for n in range(10)]

    def count_all(round_: int) -> list[int]:
        return [cache.get(text) for text in texts[round_ % 3 :] + texts[: round_ % 3]]

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(count_all, range(200)))
    for round_, counts in enumerate(results):
        order = texts[round_ % 3 :] + texts[: round_ % 3]
        assert counts == [len(text) // 4 for text in order]
    assert len(cache) == len(texts)


def test_chat_counts_with_remembered_history_equal_counting_every_message() -> None:
    history = [
        {"role": "user" if n % 2 == 0 else "assistant", "content": f"Message {n}: " + "word " * 90}
        for n in range(9)
    ]
    expected = 3 + sum(3 + count_tokens(m["content"]) for m in history)
    hits = MESSAGE_COUNTS.hits
    assert count_message_tokens(history) == expected
    assert count_message_tokens([*history, {"role": "assistant", "content": "ok " * 100}]) == (
        expected + 3 + count_tokens("ok " * 100)
    )
    assert MESSAGE_COUNTS.hits - hits >= len(history)  # the second call reused the history


#: Fragments that meet at block cuts in every way the pre-tokeniser treats differently.
PIECES = [
    "\n\n", "\n", "\r\n", " ", "  ", "\t", "\u00a0", "\u2028", "\x0b", "a", "Word", "'s",
    "'LL", "1", "2024", ".", "...", "?", ")", "`", "é", "中", "🙂", "<|endoftext|>",
]  # fmt: skip


def _block_texts() -> list[str]:
    return routerbench_texts(last_user_text, prompt_text) + fuzz_texts(PIECES, 6000, 1, 40)


def test_a_text_counts_as_the_sum_of_its_blocks() -> None:
    texts = _block_texts()
    assert len(texts) > 10000
    cut = [t for t in texts if len(split_blocks(t)) > 1]
    assert len(cut) > 3000  # the cuts are exercised, in real prompts and fuzz alike
    for text in texts:
        blocks = split_blocks(text)
        assert "".join(blocks) == text
        assert last_block_start(text) == len(text) - len(blocks[-1])
        assert all(re.fullmatch(r"(?s)[!-~].*", b) for b in blocks[1:])  # each starts a block
        assert all(b.endswith("\n\n") for b in blocks[:-1])
        assert sum(map(count_tokens, blocks)) == count_tokens(text), repr(text)
        assert count_blocks(text) == count_tokens(text), repr(text)


def test_blocks_seen_before_are_not_counted_again() -> None:
    examples = "\n\n".join(
        f"Question {n}: a farmer has {n} fields of {n + 2} rows each. How many rows?\nAnswer: "
        f"{n * (n + 2)}"
        for n in range(9)
    )
    first = f"{examples}\n\nQuestion: what is 7 * 8?\nAnswer:"
    second = f"{examples}\n\nQuestion: what is 6 * 9?\nAnswer:"
    count_blocks(first)
    hits = BLOCK_COUNTS.hits
    assert count_blocks(second) == count_tokens(second)
    assert BLOCK_COUNTS.hits - hits == 9  # the worked examples; the new question is counted
    assert all(len(block) >= BLOCK_COUNTS.min_chars for block in examples.split("\n\n"))
