"""The request log: a bounded queue in front of a background writer thread.

``submit`` never blocks and takes no lock: it appends to a deque (atomic under the GIL)
and wakes the writer only when the writer sleeps with nothing to do, so the event loop
pays a few attribute reads per request. When the queue is full the row is dropped and
counted (``paretoroute_request_log_dropped_total{reason="queue_full"}``). The writer
takes the queue in batches of ``batch_size``, builds the rows there (never on the event
loop), and writes each batch in one transaction, so a row is either complete in the
database or absent; small batches keep the stretches in which it holds the GIL short,
and a batch goes in as one multi-row INSERT per 16 rows on SQLite, one ``COPY`` on
PostgreSQL (``router.requestlog.row_insert``).
``close`` (the app's lifespan exit, e.g. SIGTERM) writes everything still queued before
it returns; ``flush`` waits for what was queued so far.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from router.gil import yield_gil
from router.requestlog.capture import Capture
from router.requestlog.database import database_url, open_database
from router.requestlog.metrics import FeedbackMetrics, RequestLogMetrics
from router.requestlog.row_insert import RowInserter
from router.requestlog.rows import RowBuilder
from router.settings import Settings

if TYPE_CHECKING:
    from router.engine import DecisionEngine
    from router.requestlog.feedback_store import FeedbackStore

logger = logging.getLogger(__name__)

#: Rows per transaction (one commit per batch; the rows are built in slices, below).
BATCH_SIZE = 32
#: After the first row arrives, wait this long for more: one transaction per batch
#: instead of per request, and one wake-up of the writer per batch, not per row.
BATCH_LINGER_S = 0.05
#: Building rows is pure Python: after this many the writer sleeps (``yield_gil``), so
#: the event loop never waits on the GIL behind more than a few rows' work (~10 us each).
YIELD_EVERY = 16
_RETRY_DELAY_S = 0.2


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
        rows: RowBuilder,
        metrics: RequestLogMetrics,
        *,
        queue_size: int,
        batch_size: int = BATCH_SIZE,
        linger_s: float = BATCH_LINGER_S,
    ) -> None:
        self.engine = engine
        self.rows = rows
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
        self._inserter = RowInserter(engine.dialect)
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

    def _build(self, batch: list[Capture]) -> list[dict[str, Any]]:
        rows = []
        for number, capture in enumerate(batch, 1):
            if number % YIELD_EVERY == 0:
                yield_gil()
            try:
                rows.append(self.rows.build(capture))
            except Exception:
                logger.exception("request log: could not build a row; dropped")
                self.metrics.dropped.labels("invalid").inc()
        return rows

    def _insert(self, rows: list[dict[str, Any]]) -> None:
        with self.engine.begin() as connection:
            self._inserter.insert(connection, rows)
        self.metrics.written.inc(len(rows))

    def _write(self, batch: list[Capture]) -> None:
        rows = self._build(batch)
        if not rows:
            return
        for attempt in range(2):
            try:
                self._insert(rows)
                return
            except SQLAlchemyError:
                logger.warning("request log: batch of %d failed (try %d)", len(rows), attempt + 1)
                time.sleep(_RETRY_DELAY_S)
        # One bad row must not take the batch down with it: write the rest one by one.
        for row in rows:
            try:
                self._insert([row])
            except SQLAlchemyError:
                logger.exception("request log: row %s not written", row["id"])
                self.metrics.dropped.labels("write_error").inc()


def build_request_log(
    settings: Settings, registry: CollectorRegistry, router: DecisionEngine, scorer: str
) -> RequestLog | None:
    """The request log the settings ask for (None when ``PARETOROUTE_REQUEST_LOG=false``)."""
    if not settings.request_log:
        return None
    from router.requestlog.feedback_store import FeedbackStore

    positions = router.catalog.positions

    def cost_rule(model: str, prompt_tokens: int, completion_tokens: int) -> float:
        return router.cost_of(positions[model], prompt_tokens, completion_tokens)

    log = RequestLog(
        open_database(database_url(settings)),
        RowBuilder(cost_rule, scorer, settings.log_content),
        RequestLogMetrics(registry),
        queue_size=settings.request_log_queue_size,
    )
    log.feedback = FeedbackStore(log, FeedbackMetrics(registry))
    return log
