"""The request log: a bounded queue in front of a background writer thread.

``submit`` never blocks and takes no lock: it appends to a deque (atomic under the GIL)
and wakes the writer only when the writer sleeps with nothing to do, so the event loop
pays a few attribute reads per request. When the queue is full the row is dropped and
counted (``paretoroute_request_log_dropped_total{reason="queue_full"}``). The writer
takes the queue in batches of ``batch_size``, copies each capture into a plain
``Record`` and hands the batch to its sink: by default the writer process
(``router.requestlog.process_writer``), which builds the rows and writes each batch in
one transaction, so a row is either complete in the database or absent, and none of
that work shares the event loop's GIL. ``PARETOROUTE_REQUEST_LOG_WRITER=thread`` writes
on this thread instead (``router.requestlog.batches``).
``close`` (the app's lifespan exit, e.g. SIGTERM) writes everything still queued before
it returns; ``flush`` waits for what was queued so far to be committed.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

from prometheus_client import CollectorRegistry
from sqlalchemy import Engine

from router.gil import yield_gil
from router.requestlog.batches import YIELD_EVERY, DatabaseWriter, WriteCounts
from router.requestlog.capture import Capture
from router.requestlog.database import database_url, open_database
from router.requestlog.metrics import FeedbackMetrics, RequestLogMetrics
from router.requestlog.process_writer import ChildConfig, ProcessWriter
from router.requestlog.records import Record, record_of
from router.requestlog.rows import RowBuilder
from router.settings import Settings

if TYPE_CHECKING:
    from policies.runtime import RuntimeParams
    from router.engine import DecisionEngine
    from router.requestlog.feedback_store import FeedbackStore

logger = logging.getLogger(__name__)

#: Rows per transaction (one commit per batch).
BATCH_SIZE = 32
#: After the first row arrives, wait this long for more: one transaction per batch
#: instead of per request, and one wake-up of the writer per batch, not per row.
BATCH_LINGER_S = 0.05


class BatchSink(Protocol):
    """Where the writer thread's batches go: ``DatabaseWriter`` or ``ProcessWriter``."""

    def start(self) -> None:
        """Get ready (called once, on the writer thread)."""
        ...

    def write(self, records: Sequence[Record]) -> WriteCounts:
        """Write one batch; never raises."""
        ...

    def close(self) -> None:
        """Release what the sink holds, after the last batch."""
        ...


class _Close:
    """Queued by ``close``: write everything before it, then stop."""


_CLOSE = _Close()
#: A flush barrier: set by the writer once everything queued before it was handled.
_Item = Capture | threading.Event | _Close


class RequestLog:
    """Queue, writer thread and database of the request log."""

    def __init__(
        self,
        engine: Engine,
        sink: BatchSink,
        metrics: RequestLogMetrics,
        *,
        queue_size: int,
        batch_size: int = BATCH_SIZE,
        linger_s: float = BATCH_LINGER_S,
    ) -> None:
        self.engine = engine
        self.sink = sink
        self.metrics = metrics
        self.queue_size = queue_size
        self.batch_size = batch_size
        self.linger_s = linger_s
        self.feedback: FeedbackStore | None = None
        self._pending: deque[_Item] = deque()
        # Captures queued so far and taken by the writer: each has one writer thread, so
        # no lock is needed; their difference is how many wait in ``_pending``.
        self._queued = 0
        self._taken = 0
        self._wake = threading.Event()  # set when there is work for an idle writer
        self._hurry = threading.Event()  # set by flush and close: stop lingering
        self._idle = False
        self._closed = False
        self._queue_full = metrics.dropped.labels("queue_full")
        self._thread = threading.Thread(target=self._run, name="request-log", daemon=True)

    def start(self) -> None:
        """Start the writer thread."""
        self._thread.start()

    def submit(self, capture: Capture) -> None:
        """Queue one finished request; drop it (counted) when the queue is full."""
        if self._closed:
            self.metrics.dropped.labels("closed").inc()
            return
        if self._queued - self._taken >= self.queue_size:
            self._queue_full.inc()
            return
        self._queued += 1
        self._pending.append(capture)
        if self._idle:
            self._wake.set()

    def flush(self, timeout_s: float = 10.0) -> bool:
        """Wait until everything queued before this call is written (or given up on)."""
        if not self._thread.is_alive():
            return not self._pending
        barrier = threading.Event()
        self._pending.append(barrier)
        self._hurry.set()
        self._wake.set()
        return barrier.wait(timeout_s)

    def close(self, timeout_s: float = 60.0) -> None:
        """Write everything still queued, stop the writer and release the database."""
        if self._closed:
            return
        self._closed = True
        if self._thread.is_alive():
            self._pending.append(_CLOSE)
            self._hurry.set()
            self._wake.set()
            self._thread.join(timeout_s)
            if self._thread.is_alive():
                logger.error("request log: writer still busy after %.0f s", timeout_s)
        if not self._thread.is_alive():
            self.sink.close()
        self.engine.dispose()

    def _wait_for_work(self) -> None:
        """Sleep until something is queued, then linger for more (unless hurried)."""
        self._wake.clear()
        self._idle = True
        if not self._pending:
            self._wake.wait()
        self._idle = False
        if self._hurry.wait(self.linger_s):
            self._hurry.clear()

    def _next_batch(self) -> tuple[list[Capture], threading.Event | _Close | None]:
        """Up to ``batch_size`` captures, and the barrier or close that ended the batch."""
        batch: list[Capture] = []
        while self._pending and len(batch) < self.batch_size:
            item = self._pending.popleft()
            if not isinstance(item, Capture):
                return batch, item
            self._taken += 1
            batch.append(item)
        return batch, None

    def _run(self) -> None:
        self.sink.start()
        closing = False
        while not (closing and not self._pending):
            if not closing:
                self._wait_for_work()
            while self._pending:
                batch, marker = self._next_batch()
                self._write_safely(batch)
                if isinstance(marker, threading.Event):
                    marker.set()
                closing = closing or marker is _CLOSE

    def _write_safely(self, batch: list[Capture]) -> None:
        if not batch:
            return
        try:
            self._write(batch)
        except Exception:  # the writer must outlive any one bad batch
            logger.exception("request log: batch of %d lost", len(batch))
            self.metrics.dropped.labels("write_error").inc(len(batch))

    def _write(self, batch: list[Capture]) -> None:
        records: list[Record] = []
        for number, capture in enumerate(batch, 1):
            if number % YIELD_EVERY == 0:
                yield_gil()  # the event loop waits behind a few records' copying at most
            try:
                records.append(record_of(capture))
            except Exception:
                logger.exception("request log: could not read a capture; dropped")
                self.metrics.dropped.labels("invalid").inc()
        if not records:
            return
        counts = self.sink.write(records)
        if counts.written:
            self.metrics.written.inc(counts.written)
        if counts.invalid:
            self.metrics.dropped.labels("invalid").inc(counts.invalid)
        if counts.failed:
            self.metrics.dropped.labels("write_error").inc(counts.failed)


def build_request_log(
    settings: Settings, registry: CollectorRegistry, router: DecisionEngine, scorer: str
) -> RequestLog | None:
    """The request log the settings ask for (None when ``PARETOROUTE_REQUEST_LOG=false``)."""
    if not settings.request_log:
        return None
    from router.requestlog.feedback_store import FeedbackStore

    url = database_url(settings)
    engine = open_database(url)
    metrics = RequestLogMetrics(registry)
    sink: BatchSink
    if settings.request_log_writer == "thread":
        positions = router.catalog.positions

        def cost_rule(model: str, prompt_tokens: int, completion_tokens: int) -> float:
            return router.cost_of(positions[model], prompt_tokens, completion_tokens)

        sink = DatabaseWriter(engine, RowBuilder(cost_rule, scorer, settings.log_content))
    else:
        local = [e.name for e in router.economics if e.is_local]

        def runtime() -> dict[str, RuntimeParams]:
            return {name: router.runtime.params(name) for name in local}

        economics = {e.name: e for e in router.economics}
        config = ChildConfig(url, scorer, settings.log_content, economics)
        sink = ProcessWriter(config, runtime, metrics.writer_restarts.inc)
    log = RequestLog(
        engine,
        sink,
        metrics,
        queue_size=settings.request_log_queue_size,
    )
    log.feedback = FeedbackStore(log, FeedbackMetrics(registry))
    return log
