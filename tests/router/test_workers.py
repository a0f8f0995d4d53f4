"""Two uvicorn workers, one truth: /metrics sums every counter over the workers.

A real ``paretoroute serve --workers 2`` subprocess gets a known mix of routed, named,
streamed and failing requests on fresh connections (so both workers serve some); every
scrape of /metrics must then show exactly what was sent.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from prometheus_client.multiprocess import MultiProcessCollector

from tests.router.fleet import (
    ROUND,
    Router,
    Samples,
    Tally,
    router_process,
    samples,
    total,
    upstream_timeout,
)

PARALLEL = 4
MAX_BATCHES = 6


@pytest.fixture(scope="module")
def router(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Router]:
    with router_process(tmp_path_factory.mktemp("workers"), workers=2) as running:
        yield running


def one_round(url: str) -> Tally:
    tally = Tally()
    fresh = httpx.Limits(max_keepalive_connections=0)  # a new connection per request
    with httpx.Client(base_url=url, timeout=30, limits=fresh) as client:
        for send in ROUND:
            send(client, tally)
    return tally


def requests_per_worker(metrics_dir: Path) -> dict[str, float]:
    """paretoroute_requests_total as each worker's own file holds it."""
    found = {}
    for path in metrics_dir.glob("counter_*.db"):
        families = MultiProcessCollector.merge([str(path)], accumulate=True)
        found[path.stem] = sum(
            sample.value
            for family in families
            if family.name == "paretoroute_requests"
            for sample in family.samples
        )
    return found


def send_traffic(router: Router) -> Tally:
    """Rounds in parallel until both workers have served (bounded), then one timeout."""
    tally = Tally()
    with ThreadPoolExecutor(PARALLEL) as pool:
        for _ in range(MAX_BATCHES):
            for result in pool.map(one_round, [router.url] * PARALLEL):
                tally.add(result)
            served = [n for n in requests_per_worker(router.metrics_dir).values() if n > 0]
            if len(served) >= 2:
                break
    with httpx.Client(base_url=router.url, timeout=30) as client:
        upstream_timeout(client, tally)
    return tally


def check(found: Samples, tally: Tally) -> None:
    sent = sum(tally.requests.values())
    ok = sum(n for (_, _, outcome), n in tally.requests.items() if outcome == "ok")
    for (endpoint, model, outcome), count in tally.requests.items():
        labels = {"endpoint": endpoint, "model": model, "outcome": outcome}
        assert total(found, "paretoroute_requests_total", **labels) == count, labels
    assert total(found, "paretoroute_requests_total") == sent
    for (status, code, model), count in tally.errors.items():
        labels = {"status": status, "code": code, "model": model}
        assert total(found, "paretoroute_errors_total", **labels) == count, labels
    assert total(found, "paretoroute_errors_total") == sum(tally.errors.values())
    for (model, kind), count in tally.upstream_errors.items():
        labels = {"model": model, "error_class": kind}
        assert total(found, "paretoroute_upstream_errors_total", **labels) == count, labels
    assert total(found, "paretoroute_upstream_errors_total") == sum(tally.upstream_errors.values())
    for (model, kind), count in tally.tokens.items():
        assert total(found, "paretoroute_tokens_total", model=model, kind=kind) == count
    assert total(found, "paretoroute_tokens_total") == sum(tally.tokens.values())
    assert total(found, "paretoroute_request_seconds_count") == sent
    assert total(found, "paretoroute_upstream_seconds_count") == ok
    assert total(found, "paretoroute_decision_seconds_count") == tally.routed
    assert total(found, "paretoroute_predicted_quality_count") == tally.routed
    assert total(found, "paretoroute_time_to_first_token_seconds_count") == tally.streams
    fallbacks = total(found, "paretoroute_fallbacks_total", reason="no_feasible_model")
    assert fallbacks == tally.fallbacks
    assert total(found, "paretoroute_in_flight_requests") == 0
    assert total(found, "paretoroute_workers") == 2


def counted(router: Router, sent: int, timeout_s: float = 10.0) -> dict[str, float]:
    """Requests per worker once all ``sent`` are counted: a worker counts a request when
    its response is done, so the last count may land just after the client has it."""
    deadline = time.monotonic() + timeout_s
    per_worker = requests_per_worker(router.metrics_dir)
    while sum(per_worker.values()) < sent and time.monotonic() < deadline:
        time.sleep(0.05)
        per_worker = requests_per_worker(router.metrics_dir)
    return per_worker


def test_every_counter_is_the_sum_over_workers(router: Router):
    tally = send_traffic(router)
    per_worker = counted(router, sum(tally.requests.values()))
    assert len([n for n in per_worker.values() if n > 0]) == 2, per_worker
    assert tally.fallbacks > 0 and tally.streams > 0 and tally.upstream_errors
    scrapes = [samples(httpx.get(router.url + "/metrics").text) for _ in range(3)]
    for found in scrapes:
        check(found, tally)
    assert sum(per_worker.values()) == total(scrapes[0], "paretoroute_requests_total")


def test_spend_target_is_split_over_workers(router: Router):
    with httpx.Client(base_url=router.url, timeout=30) as client:
        for _ in range(4):
            client.post(
                "/v1/chat/completions",
                json={"model": "auto:budget", "messages": [{"role": "user", "content": "hi"}]},
            )
    found = samples(httpx.get(router.url + "/metrics").text)
    # each worker that served the profile steers its share; the shares add up to 0.5 $/h
    target = total(found, "paretoroute_spend_target_usd_per_hour", profile="budget")
    weights = [
        value
        for (name, labels), value in found.items()
        if name == "paretoroute_spend_cost_weight" and ("profile", "budget") in labels
    ]
    assert target == pytest.approx(0.25 * len(weights))
    assert 1 <= len(weights) <= 2
