"""The writer's queue: flush is a barrier, close writes the rest, late rows are counted,
and one bad row costs only itself (SQLite here, PostgreSQL in ``test_postgres.py``)."""

from __future__ import annotations

import time
from pathlib import Path

from prometheus_client import CollectorRegistry
from sqlalchemy import func, select

from router.requestlog.database import open_database
from router.requestlog.schema import RequestRow
from tests.requestlog.writer_checks import (
    check_one_bad_row_costs_only_itself,
    finished_capture,
    request_log,
    row_count,
)

#: Several batches' worth, so flush must wait for more than the batch in hand.
CAPTURES = 50


def test_flush_returns_once_everything_queued_before_it_is_written(tmp_path: Path) -> None:
    log = request_log(f"sqlite:///{tmp_path / 'log.db'}", CollectorRegistry())
    log.start()
    try:
        for _ in range(CAPTURES):
            log.submit(finished_capture())
        assert log.flush(10)
        assert row_count(log) == CAPTURES
    finally:
        log.close()


def test_close_writes_what_is_queued_and_counts_later_rows(tmp_path: Path) -> None:
    registry = CollectorRegistry()
    url = f"sqlite:///{tmp_path / 'log.db'}"
    log = request_log(url, registry, linger_s=5.0)  # lingering: nothing written yet
    log.start()
    for _ in range(CAPTURES):
        log.submit(finished_capture())
    started = time.monotonic()
    log.close(timeout_s=10)
    assert time.monotonic() - started < 5.0  # close cut the linger short
    log.submit(finished_capture())
    engine = open_database(url)
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


def test_one_bad_row_costs_only_itself(tmp_path: Path) -> None:
    check_one_bad_row_costs_only_itself(f"sqlite:///{tmp_path / 'log.db'}")
