"""Event-loop lag and the scoring queue/compute split, measured and exported."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families

from predictors.prior import PriorScorer
from router.batching import ScoreBatcher
from router.engine import DecisionEngine
from router.loop_health import GcPauses, LoopHealthMetrics, LoopLagMonitor

ROOT = Path(__file__).resolve().parents[2]


def _count(registry: CollectorRegistry, name: str) -> float:
    return registry.get_sample_value(name + "_count") or 0.0


async def test_a_blocking_call_shows_up_as_lag():
    registry = CollectorRegistry()
    metrics = LoopHealthMetrics(registry)
    monitor = LoopLagMonitor(metrics, interval_s=0.01)
    monitor.start()
    await asyncio.sleep(0.05)
    time.sleep(0.2)  # holds the loop, as a stall would
    await asyncio.sleep(0.05)
    await monitor.stop()
    assert _count(registry, "paretoroute_event_loop_lag_seconds") >= 3
    # The stall lands in a bucket above 0.1 s.
    over = registry.get_sample_value("paretoroute_event_loop_lag_seconds_bucket", {"le": "0.1"})
    total = _count(registry, "paretoroute_event_loop_lag_seconds")
    assert over is not None and over < total


async def test_batches_report_queue_wait_and_compute(catalog):
    registry = CollectorRegistry()
    metrics = LoopHealthMetrics(registry)
    engine = DecisionEngine(catalog, PriorScorer())
    batcher = ScoreBatcher(PriorScorer(), engine.cards, observe=metrics.observe_batch)
    try:
        tables = await asyncio.gather(*(batcher.score(f"prompt {i}") for i in range(10)))
    finally:
        batcher.close()
    assert all(t.quality.shape == (1, len(engine.cards)) for t in tables)
    assert _count(registry, "paretoroute_decision_queue_seconds") == 10
    batches = _count(registry, "paretoroute_scoring_batch_seconds")
    assert 1 <= batches < 10  # concurrent prompts were scored together
    assert registry.get_sample_value("paretoroute_scoring_batch_size_sum") == 10


def test_live_server_exports_the_series(router_url: str):
    body = {"messages": [{"role": "user", "content": "hi"}]}
    assert httpx.post(router_url + "/v1/route", json=body).status_code == 200
    time.sleep(0.1)
    text = httpx.get(router_url + "/metrics").text
    names = {family.name for family in text_string_to_metric_families(text)}
    for name in (
        "paretoroute_event_loop_lag_seconds",
        "paretoroute_decision_queue_seconds",
        "paretoroute_scoring_batch_seconds",
    ):
        assert name in names


def test_gc_pauses_are_timed_and_the_startup_heap_is_frozen(router_url: str):
    import gc

    assert gc.get_freeze_count() > 0  # the live app froze its start-up heap
    gc.collect()  # a full collection while the monitor runs
    deadline = time.monotonic() + 5.0  # the monitor's next tick exports it
    while True:
        text = httpx.get(router_url + "/metrics").text
        families = {f.name: f for f in text_string_to_metric_families(text)}
        samples = families["paretoroute_gc_pause_seconds"].samples
        if any(s.labels.get("generation") == "2" and s.name.endswith("_count") for s in samples):
            break
        assert time.monotonic() < deadline, "no generation-2 pause exported"
        time.sleep(0.05)


#: A collection that starts while a metric write holds prometheus-client's multiprocess
#: lock (as an allocation inside the write can start one), with GC pauses being timed.
GC_INSIDE_A_METRIC_WRITE = """
import gc
from prometheus_client import CollectorRegistry, Counter, mmap_dict
from router.loop_health import GcPauses, LoopHealthMetrics

pauses = GcPauses(LoopHealthMetrics(CollectorRegistry()))
pauses.install()
write = mmap_dict.MmapedDict.write_value

def write_then_collect(self, *args):
    write(self, *args)
    gc.collect()

mmap_dict.MmapedDict.write_value = write_then_collect
Counter("requests", "requests", registry=CollectorRegistry()).inc()
mmap_dict.MmapedDict.write_value = write
print(pauses.flush())
"""


def test_a_collection_inside_a_multiprocess_metric_write_does_not_deadlock(tmp_path):
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path), "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", GC_INSIDE_A_METRIC_WRITE],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert int(done.stdout) >= 1  # the pause was kept and observed after the write


def test_gc_pauses_reach_the_histogram_only_when_flushed():
    import gc

    registry = CollectorRegistry()
    pauses = GcPauses(LoopHealthMetrics(registry))
    pauses.install()
    try:
        gc.collect()
    finally:
        pauses.remove()
    assert _count_gc(registry) == 0
    assert pauses.flush() >= 1
    assert _count_gc(registry) >= 1


def _count_gc(registry: CollectorRegistry) -> float:
    return registry.get_sample_value("paretoroute_gc_pause_seconds_count", {"generation": "2"}) or 0
