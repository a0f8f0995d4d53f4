"""Caller limits on the request path: requests/tokens per minute, parallel slots, budgets.

``admit`` runs before the body is read, ``reserve`` once the plan's predicted cost is
known, ``settle`` as the response ends (before its last byte is sent). All state is in the backend
(``router.limits``), so replicas sharing Redis enforce one limit together.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from router.auth.context import RequestAccount
from router.auth.keys import KeyLimits
from router.errors import BudgetExceededError, OverloadedError, RateLimitError
from router.limits.failsafe import Failsafe
from router.limits.protocols import BudgetPeriod, BudgetVerdict, StateBackend, WindowVerdict
from router.metrics import RouterMetrics

logger = logging.getLogger(__name__)
T = TypeVar("T")
MINUTE = 60.0
_ALLOW = WindowVerdict(True)
_ADJECTIVE = {"day": "daily", "month": "monthly"}


def budget_periods(limits: KeyLimits, now: datetime) -> list[BudgetPeriod]:
    """The key's budget buckets for the UTC day and month containing ``now``."""
    periods = []
    day = now.date().isoformat()  # YYYY-MM-DD; much cheaper than strftime
    if limits.budget_usd_per_day is not None:
        periods.append(BudgetPeriod(f"day:{day}", limits.budget_usd_per_day, 2 * 86400))
    if limits.budget_usd_per_month is not None:
        periods.append(BudgetPeriod(f"month:{day[:7]}", limits.budget_usd_per_month, 32 * 86400))
    return periods


def seconds_until_reset(period: str, now: datetime) -> float:
    """Seconds until the named period ends (next UTC midnight or first of next month)."""
    day = now.replace(hour=0, minute=0, second=0, microsecond=0)
    if period.startswith("day:"):
        end = day + timedelta(days=1)
    else:
        first = day.replace(day=1)
        end = (first + timedelta(days=32)).replace(day=1)
    return (end - now).total_seconds()


class CallerLimits:
    """Checks and charges one caller's limits against a shared-state backend."""

    def __init__(
        self,
        backend: StateBackend,
        failsafe: Failsafe | None,
        metrics: RouterMetrics,
        *,
        global_rpm: int | None,
        slot_ttl_s: float,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.backend = backend
        self.failsafe = failsafe
        self.metrics = metrics
        self.global_rpm = global_rpm
        self.slot_ttl_s = slot_ttl_s
        self._now = clock

    async def _all(self, calls: Sequence[Awaitable[Any]]) -> list[Any]:
        """Outcomes (results or exceptions) of ``calls``: concurrently against a remote
        backend (their round trips overlap), one after the other in-process (no task
        per call)."""
        if self.failsafe is not None and len(calls) > 1:
            return list(await asyncio.gather(*calls, return_exceptions=True))
        outcomes: list[Any] = []
        for call in calls:
            try:
                outcomes.append(await call)
            except Exception as error:
                outcomes.append(error)
        return outcomes

    async def run(self, mechanism: str, call: Callable[[], Awaitable[T]], fallback: T) -> T:
        """``await call()`` under the backend's failure policy for ``mechanism`` (``rate``,
        ``parallel``, ``budget``, ``state``); in-process it just awaits."""
        if self.failsafe is None:
            return await call()
        return await self.failsafe.run(mechanism, call, fallback)

    def _refuse(self, reason: str, message: str, retry_after_s: float) -> RateLimitError:
        self.metrics.limit_rejections.labels(reason).inc()
        return RateLimitError(message, retry_after_s=max(retry_after_s, 0.001))

    async def _requests(self, owner: str, limit: int, reason: str) -> None:
        member = os.urandom(8).hex()
        windows = self.backend.windows
        verdict = await self.run("rate", lambda: windows.hit(owner, limit, MINUTE, member), _ALLOW)
        if not verdict.allowed:
            raise self._refuse(
                reason, f"Rate limit reached: {limit} requests per minute.", verdict.retry_after_s
            )

    async def _tokens(self, owner: str, limit: int) -> None:
        windows = self.backend.windows
        used = await self.run("rate", lambda: windows.total(owner, MINUTE), 0.0)
        if used >= limit:
            raise self._refuse("tpm", f"Rate limit reached: {limit} tokens per minute.", 1.0)

    async def _slot(self, account: RequestAccount, limit: int) -> None:
        semaphores, owner = self.backend.semaphores, account.caller.owner
        holder = account.request_id
        taken = await self.run(
            "parallel", lambda: semaphores.acquire(owner, holder, limit, self.slot_ttl_s), True
        )
        if not taken:
            raise self._refuse(
                "parallel", f"Too many parallel requests: at most {limit} at a time.", 1.0
            )
        account.slot_key = owner

    async def admit(self, account: RequestAccount, generation: bool) -> None:
        """Count the request against the global and the key's request, token and parallel
        limits (concurrently: one round trip's latency); raise 429 with ``retry-after``
        over any of them, holding nothing."""
        checks = []
        if self.global_rpm is not None:
            checks.append(self._requests("global", self.global_rpm, "global_rpm"))
        key = account.caller.key
        if key is not None:
            owner, limits = account.caller.owner, key.limits
            if limits.rpm is not None:
                checks.append(self._requests(owner, limits.rpm, "rpm"))
            if generation and limits.tpm is not None:
                checks.append(self._tokens(owner, limits.tpm))
            if generation and limits.max_parallel is not None:
                checks.append(self._slot(account, limits.max_parallel))
        failures = [
            outcome for outcome in await self._all(checks) if isinstance(outcome, BaseException)
        ]
        if failures:
            await self.settle(account)  # gives back a slot taken by a passing check
            raise failures[0]

    async def reserve(self, account: RequestAccount, predicted_cost_usd: float) -> None:
        """Hold the predicted cost against the key's budgets; 429 ``budget_exceeded`` if the
        budget is spent or the prediction does not fit what is left."""
        key = account.caller.key
        if key is None:
            return
        now = self._now()
        periods = budget_periods(key.limits, now)
        if not periods:
            return
        budgets, owner, hold = self.backend.budgets, account.caller.owner, account.request_id
        amount = max(predicted_cost_usd, 0.0)
        verdict = await self.run(
            "budget",
            lambda: budgets.reserve(owner, periods, amount, hold, self.slot_ttl_s),
            BudgetVerdict(True),
        )
        if verdict.allowed:
            account.hold, account.held_usd = hold, amount
            return
        kind = verdict.period.split(":", 1)[0]
        self.metrics.limit_rejections.labels(f"budget_{kind}").inc()
        raise BudgetExceededError(
            f"Budget exceeded: this key's {_ADJECTIVE[kind]} USD budget has "
            f"{verdict.remaining_usd:.6f} left and this request is predicted to cost "
            f"{amount:.6f}.",
            retry_after_s=seconds_until_reset(verdict.period, now),
        )

    async def settle(self, account: RequestAccount) -> None:
        """Charge the realized cost and tokens, release the slot (as the response ends)."""
        key = account.caller.key
        if key is None:
            return
        owner, calls = account.caller.owner, []
        periods = budget_periods(key.limits, self._now())
        cost = account.charge_usd()
        if periods and (account.hold is not None or cost > 0):
            budgets, hold = self.backend.budgets, account.hold
            calls.append(
                self.run("budget", lambda: budgets.settle(owner, periods, hold, cost), None)
            )
        if key.limits.tpm is not None and account.tokens:
            windows, tokens = self.backend.windows, float(account.tokens)
            calls.append(self.run("rate", lambda: windows.add(owner, tokens, MINUTE), None))
        if account.slot_key is not None:
            semaphores, holder = self.backend.semaphores, account.request_id
            calls.append(self.run("parallel", lambda: semaphores.release(owner, holder), None))
        # After the response: a backend failure here is counted and logged by the
        # failsafe, never raised (a fail-closed policy applies to the next request).
        for outcome in await self._all(calls):
            if isinstance(outcome, Exception) and not isinstance(outcome, OverloadedError):
                logger.warning("settling a request's limits failed: %r", outcome)

    async def spent(self, owner: str, limits: KeyLimits) -> dict[str, float]:
        """USD spent per current period, for the admin API."""
        spent: dict[str, float] = {}
        for period in budget_periods(limits, self._now()):
            spent[period.name] = await self._spent(owner, period.name)
        return spent

    async def _spent(self, owner: str, period: str) -> float:
        budgets = self.backend.budgets
        return await self.run("budget", lambda: budgets.spent(owner, period), 0.0)
