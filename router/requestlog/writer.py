"""The request log: a bounded queue in front of a background writer thread.

``submit`` never blocks: when the queue is full the row is dropped and counted
(``paretoroute_request_log_dropped_total{reason="queue_full"}``). The writer drains the
queue in batches and writes each batch in one transaction, so a row is either complete
in the database or absent. ``close`` (the app's lifespan exit, e.g. SIGTERM) writes
everything still queued before it returns; ``flush`` waits for what was queued so far.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry
from sqlalchemy import Engine, insert
from sqlalchemy.exc import SQLAlchemyError

from router.requestlog.capture import Capture
from router.requestlog.database import database_url, open_database
from router.requestlog.metrics import FeedbackMetrics, RequestLogMetrics
from router.requestlog.rows import RowBuilder
from router.requestlog.schema import RequestRow
from router.settings import Settings

if TYPE_CHECKING:
    from router.engine import DecisionEngine
    from router.requestlog.feedback_store import FeedbackStore

logger = logging.getLogger(__name__)

BATCH_SIZE = 256
#: After the first row of a batch, wait this long for more: one transaction per batch
#: instead of per request, and the writer takes the GIL once per batch, not per row.
BATCH_LINGER_S = 0.05
_RETRY_DELAY_S = 0.2
_CLOSE = None


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
        self.batch_size = batch_size
        self.linger_s = linger_s
        self._hurry = threading.Event()
        self.feedback: FeedbackStore | None = None
        self._queue: queue.Queue[Capture | None] = queue.Queue(maxsize=queue_size)
        self._progress = threading.Condition()
        self._submitted = 0
        self._processed = 0
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="request-log", daemon=True)

    def start(self) -> None:
        """Start the writer thread."""
        self._thread.start()

    def submit(self, capture: Capture) -> None:
        """Queue one finished request; drop it (counted) when the queue is full."""
        if self._closed:
            self.metrics.dropped.labels("closed").inc()
            return
        with self._progress:
            self._submitted += 1
        try:
            self._queue.put_nowait(capture)
        except queue.Full:
            with self._progress:
                self._submitted -= 1
            self.metrics.dropped.labels("queue_full").inc()

    def flush(self, timeout_s: float = 10.0) -> bool:
        """Wait until everything queued before this call is written (or given up on)."""
        self._hurry.set()
        with self._progress:
            target = self._submitted
            return self._progress.wait_for(lambda: self._processed >= target, timeout_s)

    def close(self, timeout_s: float = 60.0) -> None:
        """Write everything still queued, stop the writer and release the database."""
        if self._closed:
            return
        self._closed = True
        self._hurry.set()
        if self._thread.is_alive():
            self._queue.put(_CLOSE)
            self._thread.join(timeout_s)
            if self._thread.is_alive():
                logger.error("request log: writer still busy after %.0f s", timeout_s)
        self.engine.dispose()

    def _next_batch(self) -> tuple[list[Capture], bool]:
        first = self._queue.get()
        if first is _CLOSE:
            return [], True
        if self._hurry.wait(self.linger_s):
            self._hurry.clear()
        batch = [first]
        while len(batch) < self.batch_size:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return batch, False
            if item is _CLOSE:
                return batch, True
            batch.append(item)
        return batch, False

    def _run(self) -> None:
        closing = False
        while not closing:
            batch, closing = self._next_batch()
            try:
                self._write(batch)
            except Exception:  # the writer must outlive any one bad batch
                logger.exception("request log: batch of %d lost", len(batch))
                self.metrics.dropped.labels("write_error").inc(len(batch))
            with self._progress:
                self._processed += len(batch)
                self._progress.notify_all()

    def _build(self, batch: list[Capture]) -> list[dict[str, Any]]:
        rows = []
        for capture in batch:
            try:
                rows.append(self.rows.build(capture))
            except Exception:
                logger.exception("request log: could not build a row; dropped")
                self.metrics.dropped.labels("invalid").inc()
        return rows

    def _insert(self, rows: list[dict[str, Any]]) -> None:
        with self.engine.begin() as connection:
            connection.execute(insert(RequestRow), rows)
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
