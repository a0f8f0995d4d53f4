"""The writer's queue: flush is a barrier, close writes the rest, late rows are counted,
and one bad row costs only itself (SQLite here, PostgreSQL in ``test_postgres.py``)."""

from __future__ import annotations

import time
from pathlib import Path

from prometheus_client import CollectorRegistry
from sqlalchemy import func, insert, select

from router.requestlog.capture import Capture
from router.requestlog.database import open_database
from router.requestlog.metrics import RequestLogMetrics
from router.requestlog.rows import RowBuilder
from router.requestlog.schema import RequestRow
from router.requestlog.writer import RequestLog
from tests.requestlog.test_row_insert import request_row

#: Several batches' worth, so flush must wait for more than the batch in hand.
CAPTURES = 50
BATCH = 8


def _log(path: Path | str, registry: CollectorRegistry, linger_s: float = 0.05) -> RequestLog:
    rows = RowBuilder(lambda model, prompt, completion: 0.0, "prior", log_content=False)
    engine = open_database(path if isinstance(path, str) else f"sqlite:///{path}")
    metrics = RequestLogMetrics(registry)
    return RequestLog(engine, rows, metrics, queue_size=1000, batch_size=BATCH, linger_s=linger_s)


def _capture() -> Capture:
    capture = Capture("chat", time.time(), time.perf_counter())
    capture.request_body.append(b'{"model": "m-small"}')
    capture.status_code = 200
    capture.finished = time.perf_counter()
    return capture


def _count(log: RequestLog) -> int:
    with log.engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(RequestRow)).scalar_one())


def test_flush_returns_once_everything_queued_before_it_is_written(tmp_path: Path) -> None:
    log = _log(tmp_path / "log.db", CollectorRegistry())
    log.start()
    try:
        for _ in range(CAPTURES):
            log.submit(_capture())
        assert log.flush(10)
        assert _count(log) == CAPTURES
    finally:
        log.close()


def test_close_writes_what_is_queued_and_counts_later_rows(tmp_path: Path) -> None:
    registry = CollectorRegistry()
    log = _log(tmp_path / "log.db", registry, linger_s=5.0)  # lingering: nothing written yet
    log.start()
    for _ in range(CAPTURES):
        log.submit(_capture())
    started = time.monotonic()
    log.close(timeout_s=10)
    assert time.monotonic() - started < 5.0  # close cut the linger short
    log.submit(_capture())
    engine = open_database(f"sqlite:///{tmp_path / 'log.db'}")
    with engine.connect() as connection:
        assert (
            connection.execute(select(func.count()).select_from(RequestRow)).scalar_one()
            == CAPTURES
        )
    closed = registry.get_sample_value(
        "paretoroute_request_log_dropped_total", {"reason": "closed"}
    )
    assert closed == 1.0
    assert registry.get_sample_value("paretoroute_request_log_rows_total") == CAPTURES


def check_one_bad_row_costs_only_itself(url: str) -> None:
    """A batch with a row whose id is taken: the batch fails, then the rows go one by one;
    the others are written and the bad one is counted, not the whole batch lost."""
    registry = CollectorRegistry()
    log = _log(url, registry, linger_s=1.0)  # lingering: the captures go in one batch
    with log.engine.begin() as connection:
        connection.execute(insert(RequestRow), [request_row(0) | {"id": "pr-taken"}])
    captures = [_capture() for _ in range(BATCH - 1)]
    captures[2].request_id = "pr-taken"
    log.start()
    try:
        for capture in captures:
            log.submit(capture)
        assert log.flush(10)
        assert _count(log) == len(captures)  # the taken id's row, and the other six
    finally:
        log.close()
    dropped = registry.get_sample_value(
        "paretoroute_request_log_dropped_total", {"reason": "write_error"}
    )
    assert dropped == 1.0
    assert registry.get_sample_value("paretoroute_request_log_rows_total") == len(captures) - 1


def test_one_bad_row_costs_only_itself(tmp_path: Path) -> None:
    check_one_bad_row_costs_only_itself(f"sqlite:///{tmp_path / 'log.db'}")
