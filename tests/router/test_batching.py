"""The score batcher: concurrent prompts share one scorer call; failures reach every waiter."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence

import numpy as np
import pytest

from predictors.base import ModelCard, Prompt, ScoreTable
from router.batching import ScoreBatcher

CARDS = (ModelCard("a"), ModelCard("b"))


class RecordingScorer:
    """Quality = prompt length / 100 for model a, 1 - that for b; records batch sizes."""

    name = "recording"

    def __init__(self, fail: bool = False) -> None:
        self.batches: list[int] = []
        self.fail = fail
        self.release = threading.Event()

    def score(self, prompts: Sequence[Prompt], cards: Sequence[ModelCard]) -> ScoreTable:
        self.batches.append(len(prompts))
        self.release.wait(timeout=5)
        if self.fail:
            raise RuntimeError("scorer broke")
        lengths = np.array([len(str(p)) / 100 for p in prompts])
        quality = np.column_stack([lengths, 1 - lengths])
        return ScoreTable(
            models=tuple(c.name for c in cards),
            quality=quality,
            completion_tokens=np.full_like(quality, 10.0),
            source=("learned", "learned"),
        )


async def test_concurrent_prompts_are_batched_and_rows_match():
    scorer = RecordingScorer()
    batcher = ScoreBatcher(scorer, CARDS)
    first = asyncio.create_task(batcher.score("x"))
    await asyncio.sleep(0.05)  # the first call is now blocked inside the scorer
    rest = [asyncio.create_task(batcher.score("y" * n)) for n in range(2, 12)]
    await asyncio.sleep(0.05)
    scorer.release.set()
    tables = [await first, *[await task for task in rest]]
    assert scorer.batches == [1, 10]
    for n, table in zip([1, *range(2, 12)], tables, strict=True):
        assert table.quality.shape == (1, 2)
        assert table.quality[0, 0] == pytest.approx(n / 100)
    batcher.close()


async def test_scorer_failure_reaches_every_waiter():
    scorer = RecordingScorer(fail=True)
    scorer.release.set()
    batcher = ScoreBatcher(scorer, CARDS)
    results = await asyncio.gather(
        *(batcher.score(str(i)) for i in range(3)), return_exceptions=True
    )
    assert all(isinstance(r, RuntimeError) for r in results)
    batcher.close()


async def test_token_counts_come_with_the_scores_and_off_the_event_loop(monkeypatch):
    import router.batching
    from predictors.tokens import count_prompt_tokens

    threads: list[str] = []

    def counting(prompt: Prompt) -> int:
        threads.append(threading.current_thread().name)
        return count_prompt_tokens(prompt)

    monkeypatch.setattr(router.batching, "count_prompt_tokens", counting)
    scorer = RecordingScorer()
    scorer.release.set()
    batcher = ScoreBatcher(scorer, CARDS)
    prompts: list[Prompt] = [
        "Name three prime numbers.",
        [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi there"}],
    ]
    try:
        results = await asyncio.gather(*(batcher.score_counted(p) for p in prompts))
    finally:
        batcher.close()
    assert [tokens for _, tokens in results] == [count_prompt_tokens(p) for p in prompts]
    assert threads and all(name.startswith("scorer") for name in threads)
    assert threading.current_thread().name not in threads


async def test_the_only_request_in_flight_is_scored_inline_and_overlapping_ones_on_the_thread():
    seen: list[tuple[list[float], float]] = []
    threads: list[str] = []

    class ThreadRecordingScorer(RecordingScorer):
        def score(self, prompts: Sequence[Prompt], cards: Sequence[ModelCard]) -> ScoreTable:
            threads.append(threading.current_thread().name)
            return super().score(prompts, cards)

    scorer = ThreadRecordingScorer()
    scorer.release.set()
    batcher = ScoreBatcher(
        scorer, CARDS, observe=lambda waits, s: seen.append((waits, s)), inline_when_idle=True
    )
    try:
        table, tokens = await batcher.score_counted("a lone prompt")
        assert threads == [threading.current_thread().name]  # no hand-off
        assert tokens > 0 and table.quality[0, 0] == pytest.approx(len("a lone prompt") / 100)
        assert seen[0][0] == [0.0] and seen[0][1] > 0
        batcher.in_flight.count = 2  # another request is being served: hand off
        await batcher.score_counted("with company")
        assert threads[-1].startswith("scorer")
        batcher.in_flight.count = 1
        # A batch in flight on the thread: the next prompts queue behind it.
        scorer.release.clear()
        batcher.inline_when_idle = False
        first = asyncio.create_task(batcher.score("x"))
        await asyncio.sleep(0.05)
        batcher.inline_when_idle = True
        rest = [asyncio.create_task(batcher.score("y" * n)) for n in range(2, 5)]
        await asyncio.sleep(0.05)
        scorer.release.set()
        await asyncio.gather(first, *rest)
    finally:
        batcher.close()
    assert scorer.batches == [1, 1, 1, 3]
    assert all(name.startswith("scorer") for name in threads[1:])
