"""One circuit breaker per model behind the small ``BreakerStore`` protocol.

States::

    closed ──(failure share ≥ rate, ≥ min calls, within the window)──▶ open
    open ──(cooldown elapsed)──▶ half_open ──(probe succeeds)──▶ closed
                                 half_open ──(probe fails)──▶ open (cooldown restarts)

While open, the ranking walk skips the model; while half-open, only
``half_open_probes`` calls at a time get through (``try_acquire``). A store shared by
several replicas (``redis_breaker.RedisBreakerStore``) implements the same methods.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol


class CircuitState(StrEnum):
    """Where one model's breaker stands."""

    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


@dataclass(frozen=True, slots=True)
class CircuitView:
    """A model's state now and, when open, the seconds until probes are let through."""

    state: CircuitState
    retry_in_s: float = 0.0


@dataclass(frozen=True, slots=True)
class BreakerConfig:
    """When a circuit opens and for how long."""

    window_s: float = 30.0
    min_calls: int = 10
    failure_rate: float = 0.5
    cooldown_s: float = 15.0
    half_open_probes: int = 1


class BreakerStore(Protocol):
    """Circuit state per model; in-process here, shared (Redis) elsewhere."""

    async def record(self, model: str, ok: bool) -> None:
        """Record the outcome of one call to ``model``."""
        ...

    async def state(self, model: str) -> CircuitView:
        """The model's state now."""
        ...

    async def try_acquire(self, model: str) -> bool:
        """True when a call may go to ``model`` now (always when closed; a probe slot
        when half-open; never when open)."""
        ...

    async def aclose(self) -> None:
        """Release what the store holds (a connection)."""
        ...


@dataclass(slots=True)
class _Circuit:
    outcomes: deque[tuple[float, bool]] = field(default_factory=deque)
    #: Failures among ``outcomes``, kept as they come and go (no scan per call).
    failures: int = 0
    opened_at: float | None = None
    probes: list[float] = field(default_factory=list)


#: Called with the state a store call saw (the circuit-state gauge).
Observe = Callable[[str, CircuitState], None]


class InProcessBreakerStore:
    """``BreakerStore`` for one process; ``clock`` is injectable for tests; ``observe``
    hears every state a call sees."""

    def __init__(
        self,
        config: BreakerConfig,
        clock: Callable[[], float] = time.monotonic,
        *,
        observe: Observe | None = None,
    ) -> None:
        self.config = config
        self._clock = clock
        self._observe = observe
        self._circuits: dict[str, _Circuit] = {}

    def _circuit(self, model: str) -> _Circuit:
        circuit = self._circuits.get(model)
        if circuit is None:
            circuit = self._circuits[model] = _Circuit()
        return circuit

    def _seen(self, model: str, view: CircuitView) -> CircuitView:
        if self._observe is not None:
            self._observe(model, view.state)
        return view

    def _view(self, circuit: _Circuit, now: float) -> CircuitView:
        if circuit.opened_at is None:
            return CircuitView(CircuitState.CLOSED)
        waited = now - circuit.opened_at
        if waited >= self.config.cooldown_s:
            return CircuitView(CircuitState.HALF_OPEN)
        return CircuitView(CircuitState.OPEN, self.config.cooldown_s - waited)

    async def state(self, model: str) -> CircuitView:
        return self._seen(model, self._view(self._circuit(model), self._clock()))

    async def try_acquire(self, model: str) -> bool:
        circuit, now = self._circuit(model), self._clock()
        view = self._seen(model, self._view(circuit, now))
        if view.state is not CircuitState.HALF_OPEN:
            return view.state is CircuitState.CLOSED
        # A probe whose caller vanished must not hold its slot forever.
        circuit.probes = [t for t in circuit.probes if now - t < self.config.cooldown_s]
        if len(circuit.probes) >= self.config.half_open_probes:
            return False
        circuit.probes.append(now)
        return True

    async def record(self, model: str, ok: bool) -> None:
        circuit, now = self._circuit(model), self._clock()
        state = self._view(circuit, now).state
        if state is CircuitState.HALF_OPEN:
            circuit.probes.clear()
            circuit.opened_at = None if ok else now
            circuit.outcomes.clear()
            circuit.failures = 0
        elif state is CircuitState.CLOSED:
            self._add(circuit, now, ok)
        # else open: a call that began before the circuit opened counts for nothing.
        self._seen(model, self._view(circuit, now))

    async def aclose(self) -> None:
        """Nothing to release."""

    def _add(self, circuit: _Circuit, now: float, ok: bool) -> None:
        outcomes = circuit.outcomes
        outcomes.append((now, ok))
        circuit.failures += not ok
        while now - outcomes[0][0] > self.config.window_s:
            circuit.failures -= not outcomes.popleft()[1]
        calls = len(outcomes)
        if calls >= self.config.min_calls and circuit.failures >= self.config.failure_rate * calls:
            circuit.opened_at = now
            outcomes.clear()
            circuit.failures = 0
