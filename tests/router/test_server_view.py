"""bench/server_view.py: the per-run differences of the router's loop-health histograms."""

from __future__ import annotations

import importlib.util
import math
import sys
from pathlib import Path

from prometheus_client import CollectorRegistry, generate_latest

from router.loop_health import LoopHealthMetrics

SPEC = importlib.util.spec_from_file_location(
    "server_view", Path(__file__).resolve().parents[2] / "bench" / "server_view.py"
)
assert SPEC is not None and SPEC.loader is not None
server_view = importlib.util.module_from_spec(SPEC)
sys.modules.setdefault("server_view", server_view)  # dataclasses look their module up
SPEC.loader.exec_module(server_view)


def test_a_run_is_the_difference_of_two_scrapes_and_quantiles_are_bucket_bounds() -> None:
    registry = CollectorRegistry()
    health = LoopHealthMetrics(registry)
    health.loop_lag.observe(0.3)  # before the run: must not count
    health.observe_batch([0.004], 0.0009)
    before = server_view.parse(generate_latest(registry).decode())
    for lag in [0.0004] * 98 + [0.015, 0.04]:
        health.loop_lag.observe(lag)
    health.observe_batch([0.0, 0.0015, 0.0025], 0.0018)
    health.gc_pause.labels("2").observe(0.003)
    after = server_view.parse(generate_latest(registry).decode())

    lag = server_view.delta(before, after, server_view.LAG)
    assert lag.count == 100
    assert lag.quantile_bound(0.5) == 0.0005
    assert lag.quantile_bound(0.99) == 0.02 and lag.quantile_bound(1.0) == 0.05
    queue = server_view.delta(before, after, server_view.QUEUE)
    assert queue.count == 3 and math.isclose(queue.mean, 0.004 / 3)
    cells = server_view.describe(before, after)
    assert cells["batch"] == "3.00"
    assert cells["compute"] == "mean 1.8, p99 <= 2"
    assert cells["gc"] == "1, longest <= 5"
    assert cells["lag"].startswith("100 ticks, p50 <= 0.5, p99 <= 20")
