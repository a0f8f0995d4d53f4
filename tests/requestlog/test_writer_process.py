"""The writer process: it writes what the thread would, survives its own death, never
outlives its server, ignores Ctrl-C, and prices rows as the server does."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import numpy as np
import pytest
from prometheus_client import CollectorRegistry

from predictors.prior import PriorScorer
from router.catalog import parse_catalog
from router.engine import DecisionEngine
from router.requestlog.costs import CostTable
from router.requestlog.process_writer import ProcessWriter
from router.requestlog.writer import RequestLog
from tests.requestlog.writer_checks import (
    check_one_bad_row_costs_only_itself,
    finished_capture,
    request_log,
    row_count,
)
from tests.router.conftest import catalog_document

CAPTURES = 40


def _child(log: RequestLog) -> int:
    sink = log.sink
    assert isinstance(sink, ProcessWriter) and sink._child is not None
    return sink._child.pid


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def _wait_gone(pid: int, timeout_s: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not _alive(pid):
            return True
        time.sleep(0.05)
    return False


def _submit(log: RequestLog, count: int) -> None:
    for _ in range(count):
        log.submit(finished_capture())


def test_flush_and_close_through_the_process(tmp_path: Path) -> None:
    registry = CollectorRegistry()
    log = request_log(f"sqlite:///{tmp_path / 'log.db'}", registry, writer="process")
    log.start()
    try:
        _submit(log, CAPTURES)
        assert log.flush(30)
        assert row_count(log) == CAPTURES  # flush returned: committed by the child
        pid = _child(log)
    finally:
        log.close()
    assert _wait_gone(pid), "the writer process outlived close"
    assert registry.get_sample_value("paretoroute_request_log_rows_total") == CAPTURES
    assert registry.get_sample_value("paretoroute_request_log_writer_restarts_total") == 0


def test_one_bad_row_costs_only_itself_in_the_process(tmp_path: Path) -> None:
    check_one_bad_row_costs_only_itself(f"sqlite:///{tmp_path / 'log.db'}", writer="process")


def test_a_killed_writer_process_is_replaced_and_no_row_is_lost(tmp_path: Path) -> None:
    registry = CollectorRegistry()
    log = request_log(f"sqlite:///{tmp_path / 'log.db'}", registry, writer="process")
    log.start()
    try:
        _submit(log, 5)
        assert log.flush(30)
        first = _child(log)
        os.kill(first, signal.SIGKILL)
        assert _wait_gone(first)
        _submit(log, 7)  # the next batch finds the pipe broken, starts a child, resends
        assert log.flush(30)
        assert row_count(log) == 12
        assert _child(log) != first
    finally:
        log.close()
    assert registry.get_sample_value("paretoroute_request_log_rows_total") == 12
    assert registry.get_sample_value("paretoroute_request_log_writer_restarts_total") == 1
    dropped = registry.get_sample_value(
        "paretoroute_request_log_dropped_total", {"reason": "write_error"}
    )
    assert not dropped


def test_the_writer_process_ignores_ctrl_c_and_ends_with_its_pipe(tmp_path: Path) -> None:
    log = request_log(f"sqlite:///{tmp_path / 'log.db'}", CollectorRegistry(), writer="process")
    log.start()
    try:
        _submit(log, 3)
        assert log.flush(30)
        pid = _child(log)
        os.kill(pid, signal.SIGINT)  # as a Ctrl-C to the whole process group would
        os.kill(pid, signal.SIGTERM)
        time.sleep(0.5)
        assert _alive(pid)
        _submit(log, 3)
        assert log.flush(30)
        assert row_count(log) == 6 and _child(log) == pid
        sink = log.sink
        assert isinstance(sink, ProcessWriter) and sink._child is not None
        assert sink._child.stdin is not None
        sink._child.stdin.close()  # what the child sees when its server dies
        assert _wait_gone(pid), "the writer process outlived its pipe"
    finally:
        log.close()


@pytest.mark.parametrize("model", ["gpt-4-1106-preview", "mistralai/mistral-7b-chat", "local"])
def test_cost_table_prices_as_the_engine(model: str) -> None:
    document = catalog_document("http://127.0.0.1:9/v1")
    document["models"].append(
        {
            "name": "local",
            "litellm_model": "hosted_vllm/meta-llama/Llama-3.1-8B-Instruct",
            "api_base": "http://127.0.0.1:9/v1",
            "provider": "local",
            "params_b": 8,
            "accelerator": "l4",
            "context_window": 8192,
            "release_date": "2024-07-23",
        }
    )
    engine = DecisionEngine(parse_catalog(document, "costs"), PriorScorer())
    table = CostTable({e.name: e for e in engine.economics})
    table.runtime = {e.name: engine.runtime.params(e.name) for e in engine.economics if e.is_local}
    index = engine.catalog.positions[model]
    for prompt, completion in [(0, 0), (12, 400), (3000, 1), (151, 17)]:
        expected = engine.cost_of(index, prompt, completion)
        assert table(model, prompt, completion) == expected
        assert np.isfinite(expected) and expected >= 0
    assert engine.economics[index].is_local == (model == "local")


def test_a_writer_process_that_cannot_start_costs_rows_not_the_log(tmp_path: Path) -> None:
    registry = CollectorRegistry()
    log = request_log(f"sqlite:///{tmp_path / 'log.db'}", registry, writer="process")
    sink = log.sink
    assert isinstance(sink, ProcessWriter)
    working = sink.command
    sink.command = [str(tmp_path / "no-such-python")]
    log.start()
    try:
        _submit(log, 4)
        assert log.flush(30)
        assert row_count(log) == 0
        sink.command = working  # e.g. the interpreter is back after an upgrade
        _submit(log, 6)
        assert log.flush(30)
        assert row_count(log) == 6
    finally:
        log.close()
    dropped = registry.get_sample_value(
        "paretoroute_request_log_dropped_total", {"reason": "write_error"}
    )
    assert dropped == 4
    assert registry.get_sample_value("paretoroute_request_log_rows_total") == 6
    restarts = registry.get_sample_value("paretoroute_request_log_writer_restarts_total")
    assert restarts is not None and restarts >= 1  # each failed start after the first counts
