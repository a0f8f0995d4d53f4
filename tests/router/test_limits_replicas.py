"""Two router processes sharing one real Redis: a global and a per-key requests-per-minute
limit and a key's USD budget hold across replicas under concurrent load; Redis killed
mid-test gives the documented fail-open / fail-closed answers, never a 500; SIGTERM waits
for in-flight requests up to the graceful-shutdown deadline."""

from __future__ import annotations

import asyncio
import threading
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import yaml

from router.limits.resp import RespClient
from tests.router.redis_server import RedisProcess, redis_server
from tests.router.replicas import ExactUpstream, Replica, replica_catalog, replicas, spread
from tests.router.servers import live_server

MASTER = "replica-master-key-0123456789"
ADMIN = {"authorization": f"Bearer {MASTER}"}
BODY = {"model": "auto", "max_tokens": 4, "messages": [{"role": "user", "content": "hi there"}]}
GLOBAL_RPM = 250


@pytest.fixture(scope="module")
def upstream() -> Iterator[tuple[ExactUpstream, str]]:
    exact = ExactUpstream()
    with live_server(exact.app()) as url:
        yield exact, url + "/v1"


@pytest.fixture(scope="module")
def shared_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisProcess]:
    with redis_server(tmp_path_factory.mktemp("redis")) as server:
        yield server


@pytest.fixture(scope="module")
def pair(
    upstream: tuple[ExactUpstream, str],
    shared_redis: RedisProcess,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[list[Replica]]:
    directory = tmp_path_factory.mktemp("replicas")
    catalog = directory / "catalog.yaml"
    catalog.write_text(yaml.safe_dump(replica_catalog(upstream[1])))
    env = {
        "PARETOROUTE_CATALOG": str(catalog),
        "PARETOROUTE_SCORER": "prior",
        "PARETOROUTE_MASTER_KEY": MASTER,
        "PARETOROUTE_DATABASE_URL": f"sqlite:///{directory / 'keys.db'}",
        "PARETOROUTE_REDIS_URL": shared_redis.url,
        "PARETOROUTE_REDIS_RETRY_S": "0.5",
        # These tests check the counts under load on a shared 2-core box; a slow Redis
        # reply must not be taken for an outage (that path is the kill test's).
        "PARETOROUTE_REDIS_TIMEOUT_S": "3",
        "PARETOROUTE_GLOBAL_RPM": str(GLOBAL_RPM),
        "PARETOROUTE_GRACEFUL_SHUTDOWN_S": "3",
    }
    with replicas([env, env], directory) as started:
        yield started


def redis_call(url: str, *command: object) -> Any:
    async def call() -> Any:
        client = RespClient(url)
        try:
            return await client.call(*command)
        finally:
            await client.aclose()

    return asyncio.run(call())


@pytest.fixture
def flushed(shared_redis: RedisProcess) -> str:
    redis_call(shared_redis.url, "FLUSHALL")
    return shared_redis.url


def make_key(replica: Replica, **limits: Any) -> dict[str, Any]:
    response = httpx.post(
        replica.url + "/admin/keys", json={"name": "load", **limits}, headers=ADMIN
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


def codes(responses: list[httpx.Response]) -> Counter[tuple[int, str]]:
    return Counter(
        (r.status_code, r.json()["error"]["code"] if r.status_code != 200 else "")
        for r in responses
    )


def test_a_keys_budget_holds_across_replicas(pair: list[Replica], flushed: str) -> None:
    probe = httpx.post(pair[0].url + "/v1/chat/completions", json=BODY, headers=ADMIN)
    assert probe.status_code == 200
    cost = float(probe.headers["x-paretoroute-predicted-cost-usd"])
    usage = probe.json()["usage"]
    assert cost == pytest.approx((usage["prompt_tokens"] + usage["completion_tokens"]) * 1e-6)
    budget = 150.5 * cost
    key = make_key(pair[1], budget_usd_per_day=budget)
    auth = {"authorization": f"Bearer {key['key']}"}
    urls = [r.url for r in pair]
    results = asyncio.run(spread(urls, auth, BODY, total=200, workers=32))
    seen = codes(results)
    assert set(seen) <= {(200, ""), (429, "budget_exceeded")}, seen
    served = seen[(200, "")] * cost
    assert budget * 0.99 <= served <= budget * 1.01, (seen, served, budget)
    keys = redis_call(flushed, "KEYS", "paretoroute:spent:*")
    spent = [float(redis_call(flushed, "GET", key)) for key in keys]
    assert spent == [pytest.approx(served, rel=1e-9)]
    refused = next(r for r in results if r.status_code == 429)
    assert int(refused.headers["retry-after"]) > 0


def test_a_keys_requests_per_minute_hold_across_replicas(pair: list[Replica], flushed: str) -> None:
    key = make_key(pair[0], rpm=100)
    auth = {"authorization": f"Bearer {key['key']}"}
    results = asyncio.run(spread([r.url for r in pair], auth, BODY, total=160, workers=32))
    seen = codes(results)
    assert set(seen) <= {(200, ""), (429, "rate_limit_exceeded")}, seen
    assert abs(seen[(200, "")] - 100) <= 1, seen
    assert all(0 < int(r.headers["retry-after"]) <= 60 for r in results if r.status_code == 429)


def test_the_global_requests_per_minute_hold_across_replicas(
    pair: list[Replica], flushed: str
) -> None:
    total = GLOBAL_RPM + 70
    results = asyncio.run(spread([r.url for r in pair], ADMIN, BODY, total=total, workers=32))
    seen = codes(results)
    assert set(seen) <= {(200, ""), (429, "rate_limit_exceeded")}, seen
    assert abs(seen[(200, "")] - GLOBAL_RPM) <= GLOBAL_RPM * 0.01, seen
    metrics = httpx.get(pair[0].url + "/metrics").text
    assert 'paretoroute_limit_rejections_total{reason="global_rpm"}' in metrics


def _state_errors(replica: Replica, mechanism: str) -> float:
    for line in httpx.get(replica.url + "/metrics").text.splitlines():
        if line.startswith(f'paretoroute_state_backend_errors_total{{mechanism="{mechanism}"}}'):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_redis_killed_mid_test_fails_open_for_rates_and_closed_for_budgets(
    pair: list[Replica], shared_redis: RedisProcess, flushed: str
) -> None:
    limited = {"authorization": f"Bearer {make_key(pair[0], rpm=10_000)['key']}"}
    budgeted = {"authorization": f"Bearer {make_key(pair[0], budget_usd_per_day=1.0)['key']}"}
    urls = [r.url for r in pair]
    outcomes: list[httpx.Response] = []
    stop = threading.Event()

    def load() -> None:
        while not stop.is_set():
            outcomes.extend(asyncio.run(spread(urls, limited, BODY, total=8, workers=4)))

    thread = threading.Thread(target=load)
    thread.start()
    try:
        time.sleep(1.0)
        shared_redis.stop()  # killed under load
        time.sleep(2.0)
        started = time.monotonic()
        closed = [httpx.post(u + "/v1/chat/completions", json=BODY, headers=budgeted) for u in urls]
        assert time.monotonic() - started < 2.0
    finally:
        stop.set()
        thread.join(timeout=30)
        shared_redis.start()
    assert {r.status_code for r in outcomes} == {200}, codes(outcomes)
    assert len(outcomes) >= 16
    for response in closed:
        assert response.status_code == 503
        assert response.json()["error"]["code"] == "limits_unavailable"
        assert response.headers["retry-after"] == "1"
    assert _state_errors(pair[0], "rate") > 0 and _state_errors(pair[0], "budget") > 0
    time.sleep(0.6)  # past PARETOROUTE_REDIS_RETRY_S: the next call tries Redis again
    recovered = httpx.post(urls[1] + "/v1/chat/completions", json=BODY, headers=budgeted)
    assert recovered.status_code == 200, recovered.text


def test_sigterm_finishes_in_flight_requests_within_the_deadline(
    pair: list[Replica], upstream: tuple[ExactUpstream, str]
) -> None:
    exact = upstream[0]
    answers: list[int] = []

    def call(url: str) -> None:
        try:
            response = httpx.post(
                url + "/v1/chat/completions", json=BODY, headers=ADMIN, timeout=30
            )
            answers.append(response.status_code)
        except httpx.HTTPError:
            answers.append(-1)

    # An in-flight request shorter than the 3 s deadline completes.
    exact.delay_s = 1.0
    short = threading.Thread(target=call, args=(pair[1].url,))
    short.start()
    time.sleep(0.4)
    pair[1].process.terminate()
    short.join(timeout=10)
    assert answers == [200]
    assert pair[1].process.wait(timeout=10) is not None
    # One longer than the deadline does not keep the process alive past it.
    exact.delay_s = 20.0
    long = threading.Thread(target=call, args=(pair[0].url,))
    long.start()
    time.sleep(0.4)
    started = time.monotonic()
    pair[0].process.terminate()
    pair[0].process.wait(timeout=15)
    assert time.monotonic() - started < 8.0
    long.join(timeout=25)
    exact.delay_s = 0.0
    assert answers[1] != 200
