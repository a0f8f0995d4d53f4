"""Shared by the request-log tests on SQLite and on PostgreSQL: a varied ``requests``
row, a small writer, and the writer's one-bad-row check."""

from __future__ import annotations

import math
import time
from datetime import datetime, timedelta, timezone
from typing import Any

from prometheus_client import CollectorRegistry
from sqlalchemy import func, insert, select

from router.requestlog.batches import DatabaseWriter
from router.requestlog.capture import Capture
from router.requestlog.database import open_database
from router.requestlog.metrics import RequestLogMetrics
from router.requestlog.process_writer import ChildConfig, ProcessWriter
from router.requestlog.rows import RowBuilder
from router.requestlog.schema import REQUEST_COLUMNS, RequestRow
from router.requestlog.writer import BatchSink, RequestLog

#: Rows per writer batch in these tests.
BATCH = 8


#: More rows than one statement may carry, so the insert must split them.
ROWS = 100


def request_row(number: int) -> dict[str, Any]:
    routed = number % 2 == 0
    zone = timezone(timedelta(hours=number % 5 - 2))
    row: dict[str, Any] = dict.fromkeys(REQUEST_COLUMNS)
    row |= {
        "id": f"pr-{number:032x}",
        "created_at": datetime(2026, 11, 26, 12, 0, number % 60, number * 997, tzinfo=zone),
        "endpoint": "chat" if routed else "text",
        "requested_model": "auto" if routed else "m-small",
        "chosen_model": "m-small",
        "fallback_chain": [] if routed else ["m-large", "m-small"],
        "predicted_cost_usd": 1e-4 * number,
        "total_ms": 1.5 + number,
        "stream": not routed,
        "status_code": 200 if number % 7 else 502,
        "prompt_text": "caf\u00e9 \U0001f600" if number % 3 == 0 else None,
    }
    if routed:
        row["preferences"] = {"cost_weight": 0.5, "allowed": ["a", "b"], "max_cost": None}
        row["predictions"] = [{"model": "m", "quality": math.nan, "on_front": True}]
        row["decision_ms"] = 0.25
    return row


def request_log(
    url: str, registry: CollectorRegistry, linger_s: float = 0.05, writer: str = "thread"
) -> RequestLog:
    """A small log writing on its own thread, or through the writer process."""
    engine = open_database(url)
    metrics = RequestLogMetrics(registry)
    sink: BatchSink
    if writer == "thread":
        rows = RowBuilder(lambda model, prompt, completion: 0.0, "prior", log_content=False)
        sink = DatabaseWriter(engine, rows)
    else:
        config = ChildConfig(url, "prior", False, {})
        sink = ProcessWriter(config, dict, metrics.writer_restarts.inc)
    return RequestLog(engine, sink, metrics, queue_size=1000, batch_size=BATCH, linger_s=linger_s)


def finished_capture() -> Capture:
    capture = Capture("chat", time.time(), time.perf_counter())
    capture.request_body.append(b'{"model": "m-small"}')
    capture.status_code = 200
    capture.finished = time.perf_counter()
    return capture


def row_count(log: RequestLog) -> int:
    with log.engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(RequestRow)).scalar_one())


def check_one_bad_row_costs_only_itself(url: str, writer: str = "thread") -> None:
    """A batch with a row whose id is taken: the batch fails, then the rows go one by one;
    the others are written and the bad one is counted, not the whole batch lost."""
    registry = CollectorRegistry()
    log = request_log(url, registry, linger_s=1.0, writer=writer)  # one batch: lingering
    with log.engine.begin() as connection:
        connection.execute(insert(RequestRow), [request_row(0) | {"id": "pr-taken"}])
    captures = [finished_capture() for _ in range(BATCH - 1)]
    captures[2].request_id = "pr-taken"
    log.start()
    try:
        for capture in captures:
            log.submit(capture)
        assert log.flush(10)
        assert row_count(log) == len(captures)  # the taken id's row, and the other six
    finally:
        log.close()
    dropped = registry.get_sample_value(
        "paretoroute_request_log_dropped_total", {"reason": "write_error"}
    )
    assert dropped == 1.0
    assert registry.get_sample_value("paretoroute_request_log_rows_total") == len(captures) - 1
