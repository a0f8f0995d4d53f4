"""Two router processes sharing one real Redis share their circuit breakers: failures
seen by replica A open the circuit that replica B then honours without having seen
any; a probe after the cooldown closes it for both once the upstream recovers; with
Redis killed, each replica falls back to its own breakers, with no failed request."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import yaml

from tests.router.fleet import samples, total
from tests.router.redis_server import RedisProcess, redis_server
from tests.router.replicas import Replica, replicas
from tests.router.servers import FakeUpstreamState, fake_openai_app, live_server
from tests.router.test_limits_replicas import redis_call

PRIMARY, BACKUP = "gpt-4-1106-preview", "gpt-3.5-turbo-1106"
CHAIN = "x-paretoroute-fallback-chain"
BODY = {"model": "auto", "max_tokens": 4, "messages": [{"role": "user", "content": "hello"}]}
MIN_CALLS = 4
COOLDOWN_S = 4.0
OUTAGE_LINE = "shared circuit breaker state unavailable"


@dataclass
class Rig:
    replicas: list[Replica]
    bad: FakeUpstreamState  # PRIMARY's upstream: switch ``fail_status`` to break or heal it
    redis: RedisProcess


def _model(name: str, url: str, price: float) -> dict[str, object]:
    return {
        "name": name,
        "litellm_model": f"openai/{name}",
        "api_base": url,
        "input_usd_per_token": price,
        "output_usd_per_token": 2 * price,
        "context_window": 8192,
    }


@pytest.fixture(scope="module")
def rig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rig]:
    directory = tmp_path_factory.mktemp("breaker-replicas")
    bad, good = FakeUpstreamState(fail_status=500), FakeUpstreamState()
    with (
        redis_server(directory) as redis,
        live_server(fake_openai_app(bad)) as bad_url,
        live_server(fake_openai_app(good)) as good_url,
    ):
        # The prior ranks PRIMARY first for ``best``; BACKUP is the next feasible model.
        catalog = {
            "upstream_timeout_s": 10.0,
            "models": [
                _model(PRIMARY, bad_url + "/v1", 1e-5),
                _model(BACKUP, good_url + "/v1", 1e-6),
            ],
            "profiles": {"best": {"cost_weight": 0.0}},
            "default_profile": "best",
        }
        path = directory / "catalog.yaml"
        path.write_text(yaml.safe_dump(catalog))
        env = {
            "PARETOROUTE_CATALOG": str(path),
            "PARETOROUTE_SCORER": "prior",
            "PARETOROUTE_REQUEST_LOG": "false",
            "PARETOROUTE_DATA_DIR": str(directory / "data"),
            "PARETOROUTE_REDIS_URL": redis.url,
            "PARETOROUTE_REDIS_RETRY_S": "0.5",
            "PARETOROUTE_REDIS_TIMEOUT_S": "3",  # a loaded 2-core box is not an outage
            "PARETOROUTE_RESILIENCE__MAX_RETRIES": "0",
            "PARETOROUTE_RESILIENCE__BREAKER_MIN_CALLS": str(MIN_CALLS),
            "PARETOROUTE_RESILIENCE__BREAKER_WINDOW_S": "60",
            "PARETOROUTE_RESILIENCE__BREAKER_COOLDOWN_S": str(COOLDOWN_S),
        }
        with replicas([env, env], directory) as pair:
            yield Rig(pair, bad, redis)


def chat(replica: Replica) -> httpx.Response:
    response = httpx.post(replica.url + "/v1/chat/completions", json=BODY, timeout=20)
    assert response.status_code == 200, response.text
    return response


def circuit(replica: Replica, model: str = PRIMARY) -> float:
    found = samples(httpx.get(replica.url + "/metrics").text)
    return total(found, "paretoroute_circuit_state", model=model)


def metric(replica: Replica, name: str, **labels: str) -> float:
    return total(samples(httpx.get(replica.url + "/metrics").text), name, **labels)


def test_a_circuit_opened_on_one_replica_is_open_on_the_other(rig: Rig) -> None:
    first, second = rig.replicas
    redis_call(rig.redis.url, "FLUSHALL")
    rig.bad.fail_status = 500
    for _ in range(MIN_CALLS):  # A sees PRIMARY fail MIN_CALLS times and falls back
        response = chat(first)
        assert response.headers["x-paretoroute-model"] == BACKUP
        assert response.headers[CHAIN].startswith(f"{PRIMARY}:upstream_")
    opened_at, calls = time.monotonic(), len(rig.bad.requests)
    assert circuit(first) == 2.0
    # B never called PRIMARY, yet skips it: the circuit is open in Redis.
    assert metric(second, "paretoroute_upstream_errors_total", model=PRIMARY) == 0
    response = chat(second)
    assert time.monotonic() - opened_at < COOLDOWN_S, "too slow to see the open state"
    assert response.headers["x-paretoroute-model"] == BACKUP
    assert response.headers[CHAIN] == f"{PRIMARY}:circuit_open,{BACKUP}:ok"
    assert len(rig.bad.requests) == calls
    assert circuit(second) == 2.0
    # PRIMARY recovers; after the cooldown B's probe closes the circuit for both.
    rig.bad.fail_status = None
    deadline = time.monotonic() + COOLDOWN_S + 15
    while chat(second).headers["x-paretoroute-model"] != PRIMARY:
        assert time.monotonic() < deadline, "the circuit never closed"
        time.sleep(0.25)
    assert time.monotonic() - opened_at >= COOLDOWN_S - 0.5
    assert circuit(second) == 0.0
    response = chat(first)
    assert response.headers["x-paretoroute-model"] == PRIMARY
    assert CHAIN not in response.headers
    assert circuit(first) == 0.0


def _outage_lines(log: Path) -> int:
    return log.read_text(errors="replace").count(OUTAGE_LINE)


def test_redis_killed_each_replica_falls_back_to_its_own_breaker(rig: Rig) -> None:
    redis_call(rig.redis.url, "FLUSHALL")
    rig.bad.fail_status = 500
    before = [_outage_lines(r.log) for r in rig.replicas]
    rig.redis.stop()
    try:
        for replica in rig.replicas:
            chains = []
            for _ in range(MIN_CALLS + 2):
                started = time.monotonic()
                response = chat(replica)  # 200, never a 500
                assert time.monotonic() - started < 3.0
                assert response.headers["x-paretoroute-model"] == BACKUP
                chains.append(response.headers[CHAIN])
            # The process's own breaker opened after its own MIN_CALLS failures.
            assert chains[-1] == f"{PRIMARY}:circuit_open,{BACKUP}:ok", chains
            assert (
                metric(replica, "paretoroute_state_backend_errors_total", mechanism="breaker") > 0
            )
        after = [_outage_lines(r.log) for r in rig.replicas]
        assert [a - b for a, b in zip(after, before, strict=True)] == [1, 1]
    finally:
        rig.redis.start()
        rig.bad.fail_status = None
    # Back on Redis (empty after the restart): its circuit is closed again.
    deadline = time.monotonic() + 10
    while chat(rig.replicas[0]).headers["x-paretoroute-model"] != PRIMARY:
        assert time.monotonic() < deadline, "never back on the shared state"
        time.sleep(0.25)
    assert "shared circuit breaker state is back" in rig.replicas[0].log.read_text()
