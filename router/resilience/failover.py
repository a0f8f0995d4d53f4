"""Retry and fall back along the ranking until a model answers, within one deadline.

For a plan, ``Failover`` walks ``ranking.fallback_order`` (the chosen model, then the
next feasible ones, at most ``max_fallback_hops`` more), skipping models whose circuit
is open. Each model gets up to ``max_retries`` retries for the failures ``retry``
marks safe, with jittered backoff; all calls share ``max_attempts`` and the
``request_timeout_s`` deadline. A stream is only "served" once its first chunk is in
hand: nothing reaches the caller before, so nothing is ever replayed after.

The outcome of every attempt is a ``Hop``; the chain is returned with the result
(``Served.hops``) for the response header, the request log and metrics.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from typing import Generic, TypeVar

from router.catalog import Catalog, CatalogModel
from router.errors import CircuitOpenError, RouterError, UpstreamTimeoutError
from router.metrics import RouterMetrics
from router.planning import Plan, upstream_target
from router.resilience.breaker import BreakerStore, CircuitState
from router.resilience.calls import OpenStream, complete_within, open_stream
from router.resilience.config import ResilienceSettings
from router.resilience.ranking import fallback_order
from router.resilience.retry import (
    CIRCUIT_OPEN,
    OK_REASON,
    Backoff,
    FailureKind,
    classify,
    fallback_metric,
)
from router.upstream.base import Endpoint, Payload, Upstream, UpstreamTarget

T = TypeVar("T")
#: One attempt: the target and the seconds left of the request's deadline.
Call = Callable[[UpstreamTarget, float], Awaitable[T]]
CHAIN_HEADER = "x-paretoroute-fallback-chain"


@dataclass(frozen=True, slots=True)
class Hop:
    """One attempt (or skip) on the way: the model and ``ok`` or why it failed."""

    model: str
    outcome: str


@dataclass(frozen=True, slots=True)
class Served(Generic[T]):
    """What answered: the plan of the model that served, its result, and the chain."""

    plan: Plan
    value: T
    hops: tuple[Hop, ...]

    @property
    def chain(self) -> str:
        """``modelA:upstream_5xx,modelB:ok``."""
        return chain_text(self.hops)

    def headers(self) -> dict[str, str]:
        """The plan's headers for the served model, plus the chain when it has more than
        one step."""
        headers = self.plan.headers()
        if len(self.hops) > 1:
            headers[CHAIN_HEADER] = self.chain
        return headers


@dataclass(slots=True)
class _Budget:
    """One request's shared allowance: a deadline and a number of calls."""

    deadline: float
    max_calls: int
    calls: int = 0
    hops: list[Hop] = field(default_factory=list)

    def remaining(self) -> float:
        return self.deadline - asyncio.get_running_loop().time()

    def spent(self) -> bool:
        return self.calls >= self.max_calls or self.remaining() <= 0

    def left(self, model: str) -> float:
        """Seconds left before the deadline; raises once none is left."""
        left = self.remaining()
        if left <= 0:
            raise UpstreamTimeoutError(f"No time left to call model {model!r}")
        return left


def chain_text(hops: list[Hop] | tuple[Hop, ...]) -> str:
    """``modelA:upstream_5xx,modelB:ok``."""
    return ",".join(f"{hop.model}:{hop.outcome}" for hop in hops)


def _with_chain(error: RouterError, hops: list[Hop]) -> RouterError:
    """``error`` carrying the chain header, so a failed request shows what was tried."""
    if hops:
        error.extra_headers[CHAIN_HEADER] = chain_text(hops)
    return error


class Failover:
    """Calls the upstream for a plan with retries, fallback and circuit breakers."""

    def __init__(
        self,
        upstream: Upstream,
        catalog: Catalog,
        breakers: BreakerStore,
        settings: ResilienceSettings,
        metrics: RouterMetrics,
        *,
        timeout_s: float,
        rng: random.Random | None = None,
    ) -> None:
        self.upstream = upstream
        self.catalog = catalog
        self.breakers = breakers
        self.settings = settings
        self.metrics = metrics
        self.timeout_s = timeout_s
        self.backoff = Backoff(
            settings.backoff_base_s, settings.backoff_max_s, settings.retry_after_max_s
        )
        self._rng = rng or random.Random()

    async def complete(self, plan: Plan, endpoint: Endpoint, body: Payload) -> Served[Payload]:
        """A non-streaming answer from the first model that gives one."""
        return await self._walk(
            plan,
            lambda target, left: complete_within(self.upstream, target, endpoint, body, left),
            record_ok=True,
        )

    async def stream(self, plan: Plan, endpoint: Endpoint, body: Payload) -> Served[OpenStream]:
        """A stream from the first model that sends a first chunk.

        Its success is not counted yet: the caller reports how it ended with
        ``stream_ended``, so a model that always breaks mid-stream opens its circuit.
        """
        return await self._walk(
            plan,
            lambda target, left: open_stream(self.upstream, target, endpoint, body, left),
            record_ok=False,
        )

    async def stream_ended(self, model: str, ok: bool) -> None:
        """Count how a served stream ended (broken after its first chunk: too late to
        fall back, but not too late for the circuit)."""
        await self.breakers.record(model, ok)

    async def _walk(self, plan: Plan, call: Call[T], *, record_ok: bool) -> Served[T]:
        loop = asyncio.get_running_loop()
        budget = _Budget(loop.time() + self.settings.request_timeout_s, self.settings.max_attempts)
        order = fallback_order(
            plan, self.catalog, named_fallback=self.settings.fallback_named_models
        )[: self.settings.max_fallback_hops + 1]
        last: RouterError | None = None
        for index in order:
            model = self.catalog.models[index]
            if not await self.breakers.try_acquire(model.name):
                budget.hops.append(Hop(model.name, CIRCUIT_OPEN))
                continue
            try:
                hop_plan = self._plan_for(plan, index, model)
                value = await self._try_model(hop_plan, call, budget, record_ok)
            except RouterError as error:
                kind = classify(error)
                if kind is not None and (not budget.hops or budget.hops[-1].model != model.name):
                    budget.hops.append(Hop(model.name, kind.reason))
                if kind is None or not kind.fall_back or budget.spent():
                    raise _with_chain(error, budget.hops) from None
                last = error
                continue
            if model.name != plan.model.name:
                # Counted once per request served by a fallback: why the choice was left.
                self.metrics.fallbacks.labels(fallback_metric(budget.hops[0].outcome)).inc()
            return Served(hop_plan, value, tuple(budget.hops))
        raise _with_chain(last or await self._all_open(order), budget.hops)

    def _plan_for(self, plan: Plan, index: int, model: CatalogModel) -> Plan:
        """The plan for ``model``: a new upstream target and predicted cost on fallback."""
        if model.name == plan.model.name:
            return replace(plan, target=self._timeouts(plan.target, model))
        reason = f"fallback from {plan.model.name}"
        target = self._timeouts(upstream_target(model, self.timeout_s, reason), model)
        cost = plan.predicted_cost_usd
        if plan.outcome is not None:
            cost = float(plan.outcome.table.cost_usd[index])
        return replace(plan, model=model, target=target, predicted_cost_usd=cost)

    def _timeouts(self, target: UpstreamTarget, model: CatalogModel) -> UpstreamTarget:
        config, defaults = model.config, self.settings
        return replace(
            target,
            timeout_s=config.timeout_s or target.timeout_s,
            connect_timeout_s=config.connect_timeout_s or defaults.connect_timeout_s,
            first_byte_timeout_s=config.first_byte_timeout_s or defaults.first_byte_timeout_s,
        )

    async def _try_model(self, plan: Plan, call: Call[T], budget: _Budget, record_ok: bool) -> T:
        name = plan.model.name
        retry = 0
        while True:
            left = budget.left(name)
            budget.calls += 1
            try:
                value = await call(plan.target, left)
            except RouterError as error:
                kind = classify(error)
                if kind is None:
                    raise
                budget.hops.append(Hop(name, kind.reason))
                await self.breakers.record(name, not kind.breaker_failure)
                delay = await self._retry_delay(name, kind, error, retry, budget)
                if delay is None:
                    raise
                self.metrics.retries.labels(kind.reason).inc()
                await asyncio.sleep(delay)
                retry += 1
            else:
                budget.hops.append(Hop(name, OK_REASON))
                if record_ok:
                    await self.breakers.record(name, True)
                return value

    async def _retry_delay(
        self, name: str, kind: FailureKind, error: RouterError, retry: int, budget: _Budget
    ) -> float | None:
        """Seconds before retrying the same model, or None to stop retrying it."""
        if not kind.retry or retry >= self.settings.max_retries or budget.spent():
            return None
        delay = self.backoff.delay(retry, error, self._rng)
        if delay is None or delay >= budget.remaining():
            return None
        if (await self.breakers.state(name)).state is not CircuitState.CLOSED:
            return None
        return delay

    async def _all_open(self, order: tuple[int, ...]) -> CircuitOpenError:
        names = [self.catalog.models[index].name for index in order]
        views = [await self.breakers.state(name) for name in names]
        wait = min((view.retry_in_s for view in views), default=0.0)
        return CircuitOpenError(
            f"Every model that could serve this request ({', '.join(names)}) is failing "
            "and its circuit breaker is open; try again later.",
            retry_after_s=wait,
        )
