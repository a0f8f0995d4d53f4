"""Where time goes around the decision: event-loop lag, scoring queue and compute time.

``LoopLagMonitor`` wakes every ``interval_s`` and records how late it woke: anything that
holds the event loop (a long synchronous call, a garbage-collection pause, the GIL held
by another thread) shows up as lag, for every request at once. ``ScoringTimes`` splits
an ``auto`` decision's scoring into the wait in the batch queue and the batch's own
compute time, so a slow decision under load can be told apart from a slow predictor.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import time
from collections import deque
from typing import Any

from prometheus_client import CollectorRegistry, Histogram

#: Lag buckets in seconds: sub-millisecond jitter up to multi-second stalls.
LAG_BUCKETS = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
TIME_BUCKETS = (0.0002, 0.0005, 0.001, 0.002, 0.003, 0.005, 0.01, 0.02, 0.05, 0.1, 0.5, 2.0)


class LoopHealthMetrics:
    """The Prometheus series of this module, in the app's registry."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.loop_lag = Histogram(
            "paretoroute_event_loop_lag_seconds",
            "How late the event loop ran a timer (stalls delay every request)",
            buckets=LAG_BUCKETS,
            registry=registry,
        )
        self.queue_wait = Histogram(
            "paretoroute_decision_queue_seconds",
            "Wait of an auto request in the scoring queue before its batch started",
            buckets=TIME_BUCKETS,
            registry=registry,
        )
        self.scoring = Histogram(
            "paretoroute_scoring_batch_seconds",
            "Compute time of one scoring batch (embed, features, predictors)",
            buckets=TIME_BUCKETS,
            registry=registry,
        )
        self.batch_size = Histogram(
            "paretoroute_scoring_batch_size",
            "Prompts scored together in one batch",
            buckets=(1, 2, 4, 8, 16, 32, 64),
            registry=registry,
        )

        self.gc_pause = Histogram(
            "paretoroute_gc_pause_seconds",
            "Cyclic garbage-collection pauses of this process, by generation",
            ["generation"],
            buckets=LAG_BUCKETS,
            registry=registry,
        )

    def observe_batch(self, waits_s: list[float], compute_s: float) -> None:
        """One scoring batch: each request's queue wait and the batch's compute time."""
        for wait in waits_s:
            self.queue_wait.observe(wait)
        self.scoring.observe(compute_s)
        self.batch_size.observe(len(waits_s))


class LoopLagMonitor:
    """A task that measures event-loop lag (and GC pauses) until ``stop``."""

    def __init__(self, metrics: LoopHealthMetrics, interval_s: float = 0.05) -> None:
        self.metrics = metrics
        self.interval_s = interval_s
        self._task: asyncio.Task[None] | None = None
        self._gc = GcPauses(metrics)

    async def _run(self) -> None:
        while True:
            expected = time.perf_counter() + self.interval_s
            await asyncio.sleep(self.interval_s)
            self.metrics.loop_lag.observe(max(0.0, time.perf_counter() - expected))
            self._gc.flush()

    def start(self) -> None:
        """Begin measuring (idempotent)."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())
            self._gc.install()

    async def stop(self) -> None:
        """Stop measuring."""
        self._gc.remove()
        self._gc.flush()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None


class GcPauses:
    """Times every cyclic garbage collection (``gc.callbacks``) into ``gc_pause``.

    The callback only appends to a deque; ``flush`` (called from the event loop) moves
    the pauses into the histogram. A collection can start inside any allocation,
    including one made while this thread holds a metric's lock (in prometheus-client's
    multiprocess mode one lock guards every value of the process), so observing from
    the callback itself would deadlock the thread on a lock it already holds.
    """

    #: Pauses kept between flushes; older ones are dropped if nobody flushes.
    MAX_PENDING = 4096

    def __init__(self, metrics: LoopHealthMetrics) -> None:
        self.metrics = metrics
        self._started = 0.0
        self._pending: deque[tuple[str, float]] = deque(maxlen=self.MAX_PENDING)

    def _callback(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self._pending.append(
                (str(info.get("generation", "?")), time.perf_counter() - self._started)
            )

    def flush(self) -> int:
        """Observe the buffered pauses; returns how many there were."""
        flushed = 0
        while self._pending:
            generation, pause = self._pending.popleft()
            self.metrics.gc_pause.labels(generation).observe(pause)
            flushed += 1
        return flushed

    def install(self) -> None:
        """Start timing collections (idempotent)."""
        if self._callback not in gc.callbacks:
            gc.callbacks.append(self._callback)

    def remove(self) -> None:
        """Stop timing collections."""
        if self._callback in gc.callbacks:
            gc.callbacks.remove(self._callback)


def freeze_startup_heap() -> int:
    """Move every object alive after start-up out of the collector's sight.

    The loaded libraries, catalog, predictors and replay data are ~170k tracked objects
    that live as long as the process; each full (generation 2) collection walked all of
    them, stalling the event loop for tens to hundreds of milliseconds (measured: one
    353 ms pause in 1,500 requests before, 7.6 ms after; see BENCHMARKS.md). Returns the
    number of objects frozen.
    """
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()
