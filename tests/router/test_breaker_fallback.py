"""Redis down or silent under the shared circuit breakers: calls are answered by the
process's own breakers within the deadline, counted, and the outage is logged once."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from pydantic import SecretStr

from router.limits.resp import REDIS_ERRORS, RespClient
from router.resilience.breaker import BreakerConfig, CircuitState, InProcessBreakerStore
from router.resilience.fallback_breaker import FallbackBreakerStore
from router.resilience.near_cache import NearCacheBreakerStore
from router.resilience.redis_breaker import RedisBreakerStore
from tests.router.redis_server import redis_server

CONFIG = BreakerConfig(window_s=5.0, min_calls=4, failure_rate=0.5, cooldown_s=5.0)
LOGGER = "router.resilience.fallback_breaker"


class Counted:
    """The ``on_error`` hook: how many calls were answered locally."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self) -> None:
        self.count += 1


def fallback(url: str, counted: Counted, timeout_s: float, retry_s: float) -> FallbackBreakerStore:
    return FallbackBreakerStore(
        RedisBreakerStore(RespClient(url, connect_timeout_s=timeout_s), CONFIG),
        InProcessBreakerStore(CONFIG),
        timeout_s=timeout_s,
        retry_s=retry_s,
        errors=REDIS_ERRORS,
        on_error=counted,
    )


def messages(caplog: pytest.LogCaptureFixture, text: str) -> int:
    return sum(text in r.getMessage() for r in caplog.records if r.name == LOGGER)


async def test_redis_stopped_then_back(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger=LOGGER)
    counted = Counted()
    with redis_server(tmp_path) as server:
        store = fallback(server.url, counted, timeout_s=1.0, retry_s=0.0)
        try:
            await store.record("m", False)  # reaches Redis
            assert counted.count == 0
            server.stop()
            started = time.monotonic()
            for _ in range(25):  # retry_s=0: every call tries Redis again, and fails
                assert await store.try_acquire("other")
                await store.record("m", False)
            assert time.monotonic() - started < 2.0
            # The local breaker saw the failures and opened: the breaker still works.
            assert (await store.state("m")).state is CircuitState.OPEN
            assert not await store.try_acquire("m")
            assert counted.count == 52 and store.outage
            assert messages(caplog, "unavailable") == 1  # one line per outage
            server.start()
            # Back on Redis (fresh after the restart): its circuit is closed.
            assert (await store.state("m")).state is CircuitState.CLOSED
            assert counted.count == 52 and not store.outage
            assert messages(caplog, "is back") == 1
        finally:
            await store.aclose()


@pytest.fixture
async def silent_redis() -> AsyncIterator[str]:
    """A TCP server that accepts connections and never answers."""
    held: list[asyncio.StreamWriter] = []

    async def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    server = await asyncio.start_server(accept, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    yield f"redis://127.0.0.1:{port}/0"
    for writer in held:
        writer.close()
    server.close()
    await server.wait_closed()


async def test_a_silent_redis_costs_one_timeout_per_retry_period(
    silent_redis: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger=LOGGER)
    counted = Counted()
    store = fallback(silent_redis, counted, timeout_s=0.2, retry_s=30.0)
    try:
        started = time.monotonic()
        assert await store.try_acquire("m")
        first = time.monotonic() - started
        assert 0.15 <= first < 1.0
        started = time.monotonic()
        for _ in range(20):  # within retry_s: Redis is not waited on again
            await store.record("m", True)
        assert time.monotonic() - started < 0.1
        assert counted.count == 21
        assert messages(caplog, "unavailable") == 1
    finally:
        await store.aclose()


async def test_the_setting_picks_the_store(tmp_path: Path) -> None:
    from router.metrics import RouterMetrics
    from router.resilience.shared_breakers import build_breakers
    from router.settings import Settings

    metrics = RouterMetrics()
    local = build_breakers(Settings(), CONFIG, metrics)
    assert isinstance(local, InProcessBreakerStore)
    with redis_server(tmp_path) as server:
        shared = build_breakers(Settings(redis_url=SecretStr(server.url)), CONFIG, metrics)
        try:
            assert isinstance(shared, NearCacheBreakerStore)
            assert isinstance(shared.inner, FallbackBreakerStore)
            for _ in range(4):
                await shared.record("gpt-4o", False)
            sample = metrics.registry.get_sample_value(
                "paretoroute_circuit_state", {"model": "gpt-4o"}
            )
            assert sample == 2.0
            server.stop()
            assert await shared.try_acquire("gpt-4o-mini")
            errors = metrics.registry.get_sample_value(
                "paretoroute_state_backend_errors_total", {"mechanism": "breaker"}
            )
            assert errors == 1.0
        finally:
            await shared.aclose()
