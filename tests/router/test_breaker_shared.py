"""The circuit breaker's state machine over every store (in-process and a real Redis),
two Redis stores standing for two replicas, and the fallback to in-process breakers
while Redis is down or silent."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable

import pytest

from router.limits.resp import RespClient
from router.resilience.breaker import (
    BreakerConfig,
    BreakerStore,
    CircuitState,
    InProcessBreakerStore,
)
from router.resilience.redis_breaker import PREFIX, RedisBreakerStore
from tests.router.redis_server import RedisProcess

COOLDOWN_S = 0.3
CONFIG = BreakerConfig(
    window_s=5.0, min_calls=4, failure_rate=0.5, cooldown_s=COOLDOWN_S, half_open_probes=2
)
MakeStore = Callable[[BreakerConfig], BreakerStore]


@pytest.fixture
async def admin(redis: RedisProcess) -> AsyncIterator[RespClient]:
    """A client of a freshly flushed Redis."""
    client = RespClient(redis.url)
    await client.call("FLUSHALL")
    yield client
    await client.aclose()


@pytest.fixture(params=["memory", "redis"])
async def make_store(request: pytest.FixtureRequest) -> AsyncIterator[MakeStore]:
    """Builds stores of one kind; every Redis store is a separate client (a replica)."""
    made: list[BreakerStore] = []
    url = ""
    if request.param == "redis":
        url = request.getfixturevalue("redis").url
        flusher = RespClient(url)
        await flusher.call("FLUSHALL")
        await flusher.aclose()

    def make(config: BreakerConfig) -> BreakerStore:
        store: BreakerStore = (
            RedisBreakerStore(RespClient(url), config) if url else InProcessBreakerStore(config)
        )
        made.append(store)
        return store

    yield make
    for store in made:
        await store.aclose()


async def state(store: BreakerStore, model: str = "m") -> CircuitState:
    return (await store.state(model)).state


async def outcomes(store: BreakerStore, *oks: bool, model: str = "m") -> None:
    for ok in oks:
        await store.record(model, ok)


async def wait_for(store: BreakerStore, wanted: CircuitState, limit_s: float = 3.0) -> None:
    """Poll (bounded) until the circuit reads ``wanted``."""
    deadline = time.monotonic() + limit_s
    while await state(store) is not wanted:
        assert time.monotonic() < deadline, f"still {await state(store)}, wanted {wanted}"
        await asyncio.sleep(0.02)


async def opened(store: BreakerStore) -> None:
    await outcomes(store, False, False, False, False)
    assert await state(store) is CircuitState.OPEN


async def test_opens_only_with_enough_calls_and_failures(make_store: MakeStore) -> None:
    store = make_store(CONFIG)
    await outcomes(store, False, False, False)
    assert await state(store) is CircuitState.CLOSED  # 3 < min_calls
    await outcomes(store, True)
    # 4 calls, 3 failed (≥ 50 %): open, and the wait counts down from the cooldown.
    view = await store.state("m")
    assert view.state is CircuitState.OPEN
    assert 0 < view.retry_in_s <= COOLDOWN_S
    assert not await store.try_acquire("m")
    assert await state(store, "other") is CircuitState.CLOSED


async def test_successes_keep_it_closed(make_store: MakeStore) -> None:
    store = make_store(CONFIG)
    await outcomes(store, True, True, True, False, True, False, True)
    assert await state(store) is CircuitState.CLOSED
    assert await store.try_acquire("m")


async def test_old_failures_leave_the_window(make_store: MakeStore) -> None:
    store = make_store(BreakerConfig(window_s=0.3, min_calls=4, failure_rate=0.5))
    await outcomes(store, False, False, False)
    await asyncio.sleep(0.4)
    await outcomes(store, False)  # the three earlier ones have left the window
    assert await state(store) is CircuitState.CLOSED


async def test_half_open_probes_are_limited_and_success_closes(make_store: MakeStore) -> None:
    store = make_store(CONFIG)
    await opened(store)
    await wait_for(store, CircuitState.HALF_OPEN)
    assert [await store.try_acquire("m") for _ in range(3)] == [True, True, False]
    await store.record("m", True)
    assert await state(store) is CircuitState.CLOSED
    assert await store.try_acquire("m")
    # Closed again with a clean window: one failure does not reopen it.
    await outcomes(store, False)
    assert await state(store) is CircuitState.CLOSED


async def test_a_failed_probe_reopens_for_a_new_cooldown(make_store: MakeStore) -> None:
    store = make_store(CONFIG)
    await opened(store)
    await wait_for(store, CircuitState.HALF_OPEN)
    assert await store.try_acquire("m")
    await store.record("m", False)
    view = await store.state("m")
    assert view.state is CircuitState.OPEN
    assert view.retry_in_s > COOLDOWN_S / 2
    assert not await store.try_acquire("m")
    await wait_for(store, CircuitState.HALF_OPEN)


async def test_a_lost_probe_slot_expires(make_store: MakeStore) -> None:
    store = make_store(CONFIG)
    await opened(store)
    await wait_for(store, CircuitState.HALF_OPEN)
    assert await store.try_acquire("m") and await store.try_acquire("m")
    assert not await store.try_acquire("m")
    await asyncio.sleep(COOLDOWN_S + 0.05)  # the two probes' callers never came back
    assert await store.try_acquire("m")


async def test_a_late_outcome_while_open_counts_for_nothing(make_store: MakeStore) -> None:
    store = make_store(CONFIG)
    await opened(store)
    await outcomes(store, True, True, True, True, True)
    assert await state(store) is CircuitState.OPEN


async def test_two_redis_stores_share_one_circuit(redis: RedisProcess, admin: RespClient) -> None:
    first = RedisBreakerStore(RespClient(redis.url), CONFIG)
    second = RedisBreakerStore(RespClient(redis.url), CONFIG)
    try:
        await outcomes(first, False, False)
        await outcomes(second, False, False)  # the two halves open it together
        assert await state(first) is CircuitState.OPEN
        assert await state(second) is CircuitState.OPEN
        assert not await second.try_acquire("m")
        await wait_for(second, CircuitState.HALF_OPEN)
        # Probe slots are shared: two in all, whichever replica takes them.
        assert await first.try_acquire("m") and await second.try_acquire("m")
        assert not await first.try_acquire("m") and not await second.try_acquire("m")
        await first.record("m", True)
        assert await state(second) is CircuitState.CLOSED
    finally:
        await first.aclose()
        await second.aclose()


async def test_concurrent_probes_never_exceed_the_limit(
    redis: RedisProcess, admin: RespClient
) -> None:
    stores = [RedisBreakerStore(RespClient(redis.url), CONFIG) for _ in range(4)]
    try:
        await opened(stores[0])
        await wait_for(stores[0], CircuitState.HALF_OPEN)
        granted = await asyncio.gather(*(s.try_acquire("m") for s in stores for _ in range(10)))
        assert sum(granted) == CONFIG.half_open_probes
    finally:
        for store in stores:
            await store.aclose()


async def test_every_key_is_namespaced_and_expires(redis: RedisProcess, admin: RespClient) -> None:
    store = RedisBreakerStore(RespClient(redis.url), CONFIG, idle_ttl_s=60.0)
    try:
        await outcomes(store, True, False, model="gpt-4o")
        await opened(store)
        await wait_for(store, CircuitState.HALF_OPEN)
        assert await store.try_acquire("m")
        keys = sorted(await admin.call("KEYS", "*"))
        assert keys == sorted(
            [
                f"{PREFIX}gpt-4o",
                f"{PREFIX}gpt-4o:calls",
                f"{PREFIX}gpt-4o:failures",
                f"{PREFIX}m",
                f"{PREFIX}m:probes",
            ]
        )
        ttls = {key: await admin.call("PTTL", key) for key in keys}
        assert all(0 < ttl <= 60_000 for ttl in ttls.values()), ttls
        assert ttls[f"{PREFIX}m:probes"] <= COOLDOWN_S * 1000
        assert ttls[f"{PREFIX}gpt-4o:calls"] <= CONFIG.window_s * 1000
    finally:
        await store.aclose()
