"""Remembered token counts: the same numbers, each long text counted once, bounded size,
no text kept."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from predictors.token_cache import CountCache
from predictors.tokens import MESSAGE_COUNTS, count_message_tokens, count_tokens


class Counting:
    """A counter (characters / 4) that remembers what it was asked."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def __call__(self, text: str) -> int:
        self.calls.append(text)
        return len(text) // 4


def test_a_long_text_is_counted_once_and_a_short_one_every_time() -> None:
    counter = Counting()
    cache = CountCache(counter, min_chars=10, max_entries=10)
    long, short = "x" * 40, "short"
    assert [cache.count(long) for _ in range(3)] == [10, 10, 10]
    assert [cache.count(short) for _ in range(2)] == [1, 1]
    assert counter.calls == [long, short, short]
    assert (cache.hits, len(cache)) == (2, 1)
    assert cache.count("y" * 40) == 10 and counter.calls[-1] == "y" * 40  # same length, new text


def test_the_least_recently_used_go_first_and_the_size_holds() -> None:
    counter = Counting()
    cache = CountCache(counter, min_chars=1, max_entries=2)
    a, b, c = "a" * 40, "b" * 40, "c" * 40
    cache.count(a)
    cache.count(b)
    cache.count(a)  # a is now the most recently used
    cache.count(c)  # three entries: b goes
    assert len(cache) == 2
    cache.count(a)
    cache.count(b)  # counted again
    assert counter.calls == [a, b, c, b]


def test_no_text_is_kept() -> None:
    cache = CountCache(Counting(), min_chars=1)
    secret = "my password is hunter2, " * 20
    cache.count(secret)
    assert not any(isinstance(part, str) for key in cache._counts for part in key)


def test_threads_counting_together_get_the_right_counts() -> None:
    cache = CountCache(Counting(), min_chars=1, max_entries=100)
    texts = [str(n) * (20 + n) for n in range(10)]

    def count_all(round_: int) -> list[int]:
        return [cache.count(text) for text in texts[round_ % 3 :] + texts[: round_ % 3]]

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
