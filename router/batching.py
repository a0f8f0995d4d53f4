"""Score concurrent requests together, on a worker thread, off the event loop.

Scoring is CPU work (embedding, nearest neighbours, LightGBM) with a high fixed cost
per call; the prompt's token count (tiktoken, 0.1-0.3 ms for a RouterBench prompt, GIL
released) is taken on the same thread, with the batch. While one batch is being scored,
requests that arrive queue up and are scored together in the next call: a lone request
waits only for the thread hand-off, and under load the per-call cost is shared. The
event loop keeps parsing and forwarding meanwhile (numpy and LightGBM release the GIL).

With ``inline_when_idle`` a prompt is scored on the calling thread instead when it is
the only generation request in flight (``InFlight``, counted by ``router.observe``) and
the batcher is idle: the one-prompt decision (~0.8 ms, mostly GIL-holding Python) costs
less than the two thread hand-offs it would wait for. As soon as requests overlap they go
to the thread and are batched: scoring every prompt inline under load blocks the loop
for each one and measured 25-30 % fewer requests per second at concurrency 32, with a
p99 four times longer (BENCHMARKS.md).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

from predictors.base import ModelCard, Prompt, Scorer, ScoreTable
from predictors.tokens import count_prompt_tokens

#: Called after each batch with every request's queue wait and the batch's compute time.
BatchObserver = Callable[[list[float], float], None]


def _timed_score(
    scorer: Scorer, prompts: list[Prompt], cards: tuple[ModelCard, ...]
) -> tuple[ScoreTable, list[int], float]:
    started = time.perf_counter()
    table = scorer.score(prompts, cards)
    tokens = [count_prompt_tokens(prompt) for prompt in prompts]
    return table, tokens, time.perf_counter() - started


class InFlight:
    """How many generation requests this process is serving now."""

    __slots__ = ("count",)

    def __init__(self) -> None:
        self.count = 0


class ScoreBatcher:
    """Async front for a ``Scorer``: one worker thread, batches of up to ``max_batch``."""

    def __init__(
        self,
        scorer: Scorer,
        cards: Sequence[ModelCard],
        max_batch: int = 64,
        observe: BatchObserver | None = None,
        inline_when_idle: bool = False,
        in_flight: InFlight | None = None,
    ) -> None:
        self.scorer = scorer
        self.cards = tuple(cards)
        self.max_batch = max_batch
        self.observe = observe
        self.inline_when_idle = inline_when_idle
        self.in_flight = in_flight or InFlight()
        self._pending: list[tuple[Prompt, float, asyncio.Future[tuple[ScoreTable, int]]]] = []
        self._worker: asyncio.Task[None] | None = None
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="scorer")

    async def score(self, prompt: Prompt) -> ScoreTable:
        """This prompt's one-row table, scored alone or with whatever else is waiting."""
        return (await self.score_counted(prompt))[0]

    async def score_counted(self, prompt: Prompt) -> tuple[ScoreTable, int]:
        """The one-row table and the prompt's token count (``count_prompt_tokens``)."""
        if self.inline_when_idle and self.in_flight.count <= 1 and self._idle():
            table, tokens, compute_s = _timed_score(self.scorer, [prompt], self.cards)
            if self.observe is not None:
                self.observe([0.0], compute_s)
            return table.row(0), tokens[0]
        loop = asyncio.get_running_loop()
        future: asyncio.Future[tuple[ScoreTable, int]] = loop.create_future()
        self._pending.append((prompt, time.perf_counter(), future))
        if not self._draining():
            self._worker = asyncio.create_task(self._drain())
        return await future

    def _draining(self) -> bool:
        return self._worker is not None and not self._worker.done()

    def _idle(self) -> bool:
        return not self._pending and not self._draining()

    async def _drain(self) -> None:
        loop = asyncio.get_running_loop()
        while self._pending:
            batch = self._pending[: self.max_batch]
            del self._pending[: self.max_batch]
            prompts = [prompt for prompt, _, _ in batch]
            started = time.perf_counter()
            try:
                table, tokens, compute_s = await loop.run_in_executor(
                    self._executor, _timed_score, self.scorer, prompts, self.cards
                )
            except Exception as error:  # every waiter gets the scorer's failure
                for _, _, future in batch:
                    if not future.done():
                        future.set_exception(error)
                continue
            for index, (_, _, future) in enumerate(batch):
                if not future.done():
                    future.set_result((table.row(index), tokens[index]))
            if self.observe is not None:  # after the answers: a metric never holds them up
                self.observe([started - queued for _, queued, _ in batch], compute_s)

    def close(self) -> None:
        """Stop the worker thread (pending work is dropped; call at shutdown)."""
        self._executor.shutdown(wait=False, cancel_futures=True)
