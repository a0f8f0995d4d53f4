"""``NearCacheBreakerStore``: no shared-store round trip while a circuit was seen closed
recently; failures and probe results still recorded before the call returns."""

from __future__ import annotations

import asyncio

from router.resilience.breaker import CircuitState, CircuitView
from router.resilience.near_cache import NearCacheBreakerStore


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class Shared:
    """A shared store that answers ``state`` for everything and logs its calls."""

    def __init__(self) -> None:
        self.state_now = CircuitState.CLOSED
        self.calls: list[tuple[str, ...]] = []
        self.cache: NearCacheBreakerStore | None = None
        self.closed = False

    def _answer(self, model: str) -> None:
        assert self.cache is not None
        self.cache.saw(model, self.state_now)

    async def state(self, model: str) -> CircuitView:
        self.calls.append(("state", model))
        self._answer(model)
        return CircuitView(self.state_now)

    async def try_acquire(self, model: str) -> bool:
        self.calls.append(("try_acquire", model))
        self._answer(model)
        return self.state_now is not CircuitState.OPEN

    async def record(self, model: str, ok: bool) -> None:
        await asyncio.sleep(0)
        self.calls.append(("record", model, str(ok)))
        self._answer(model)

    async def aclose(self) -> None:
        self.closed = True


def rig(refresh_s: float = 1.0) -> tuple[NearCacheBreakerStore, Shared, Clock]:
    shared, clock = Shared(), Clock()
    cache = NearCacheBreakerStore(shared, refresh_s, clock)
    shared.cache = cache
    return cache, shared, clock


async def test_a_circuit_seen_closed_is_not_asked_again_until_stale():
    cache, shared, clock = rig()
    assert await cache.try_acquire("m")  # unknown: asks
    assert await cache.try_acquire("m")  # seen closed just now: does not ask
    assert shared.calls == [("try_acquire", "m")]
    clock.now += 1.0  # stale
    assert await cache.try_acquire("m")
    assert shared.calls == [("try_acquire", "m")] * 2


async def test_open_or_half_open_is_always_asked():
    cache, shared, _ = rig()
    shared.state_now = CircuitState.OPEN
    assert not await cache.try_acquire("m")
    assert not await cache.try_acquire("m")
    shared.state_now = CircuitState.HALF_OPEN
    assert await cache.try_acquire("m")
    assert len(shared.calls) == 3


async def test_successes_on_a_closed_circuit_are_recorded_in_the_background():
    cache, shared, _ = rig()
    await cache.try_acquire("m")
    await cache.record("m", True)
    assert ("record", "m", "True") not in shared.calls  # not waited for
    await cache.aclose()  # waits for it
    assert ("record", "m", "True") in shared.calls
    assert shared.closed


async def test_failures_and_probe_results_are_recorded_before_returning():
    cache, shared, _ = rig()
    await cache.try_acquire("m")
    await cache.record("m", False)
    assert shared.calls[-1] == ("record", "m", "False")
    shared.state_now = CircuitState.HALF_OPEN
    cache.saw("m", CircuitState.HALF_OPEN)
    await cache.record("m", True)  # a probe's result: the state changes with it
    assert shared.calls[-1] == ("record", "m", "True")


async def test_a_record_answering_open_stops_the_shortcut():
    cache, shared, _ = rig()
    await cache.try_acquire("m")
    shared.state_now = CircuitState.OPEN  # another replica opened it
    await cache.record("m", False)
    assert not await cache.try_acquire("m")
    assert shared.calls[-1] == ("try_acquire", "m")


async def test_refresh_zero_always_asks():
    cache, shared, _ = rig(refresh_s=0.0)
    for _ in range(3):
        assert await cache.try_acquire("m")
    await cache.record("m", True)
    assert len(shared.calls) == 4
