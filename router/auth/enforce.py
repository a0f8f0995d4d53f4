"""Caller limits on the request path: requests/tokens per minute, parallel slots, budgets.

``admit`` runs before the body is read, ``reserve`` once the plan's predicted cost is
known (against Redis the two are one Lua script, run at ``reserve``), ``settle`` as the
response ends (issued before its last byte is sent, awaited off the response path). All
state is in the backend (``router.limits``), so replicas sharing Redis enforce one limit
together.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from router.auth.context import RequestAccount
from router.auth.keys import KeyLimits
from router.errors import BudgetExceededError, OverloadedError, RateLimitError, RouterError
from router.limits.admission import (
    ALLOWED,
    Admission,
    AdmissionVerdict,
    BudgetCharge,
    BudgetHold,
    RateCheck,
    Settlement,
    SlotClaim,
    SlotRelease,
    TokenCharge,
    TokenCheck,
)
from router.limits.failsafe import Failsafe
from router.limits.protocols import BudgetPeriod, StateBackend
from router.metrics import RouterMetrics

logger = logging.getLogger(__name__)
T = TypeVar("T")
MINUTE = 60.0
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
    """Checks and charges one caller's limits against a shared-state backend.

    Against a remote backend (``failsafe`` set) a generation request's admission waits
    for its budget hold, so both leave in one call (one round trip before the answer);
    in-process it runs before the body is read. Settlements run off the response path
    (``settle_soon``) and ``drain`` waits for them at shutdown.
    """

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
        self._settling: set[asyncio.Future[None]] = set()

    async def run(
        self, mechanism: str | tuple[str, ...], call: Callable[[], Awaitable[T]], fallback: T
    ) -> T:
        """``await call()`` under the backend's failure policy for ``mechanism`` (``rate``,
        ``parallel``, ``budget``, ``state``, or several); in-process it just awaits."""
        if self.failsafe is None:
            return await call()
        return await self.failsafe.run(mechanism, call, fallback)

    def _admission(self, account: RequestAccount, generation: bool) -> Admission:
        rates = []
        if self.global_rpm is not None:
            member = os.urandom(8).hex()
            rates.append(RateCheck("global", self.global_rpm, MINUTE, member, "global_rpm"))
        key = account.caller.key
        if key is None:
            return Admission(tuple(rates))
        owner, limits = account.caller.owner, key.limits
        if limits.rpm is not None:
            rates.append(RateCheck(owner, limits.rpm, MINUTE, os.urandom(8).hex(), "rpm"))
        if not generation:
            return Admission(tuple(rates))
        tokens = TokenCheck(owner, limits.tpm, MINUTE) if limits.tpm is not None else None
        slot = None
        if limits.max_parallel is not None:
            slot = SlotClaim(owner, account.request_id, limits.max_parallel, self.slot_ttl_s)
        return Admission(tuple(rates), tokens, slot)

    async def admit(self, account: RequestAccount, generation: bool) -> None:
        """Count the request against the global and the key's request, token and parallel
        limits; raise 429 with ``retry-after`` over any of them, holding nothing. Against
        a remote backend a generation request's checks wait for ``reserve``."""
        admission = self._admission(account, generation)
        if generation and self.failsafe is not None:
            account.admission = admission
            return
        await self._check(account, admission, None)

    async def reserve(self, account: RequestAccount, predicted_cost_usd: float) -> None:
        """Hold the predicted cost against the key's budgets (with the admission checks
        still pending); 429 ``budget_exceeded`` if the budget is spent or the prediction
        does not fit what is left."""
        admission, account.admission = account.admission or Admission(), None
        key, now = account.caller.key, self._now()
        periods = budget_periods(key.limits, now) if key is not None else []
        if periods:
            amount = max(predicted_cost_usd, 0.0)
            hold = BudgetHold(
                account.caller.owner, periods, amount, account.request_id, self.slot_ttl_s
            )
            admission = admission.with_budget(hold)
        await self._check(account, admission, now)

    async def _check(
        self, account: RequestAccount, admission: Admission, now: datetime | None
    ) -> None:
        if not admission:
            return
        admissions = self.backend.admissions
        verdict = await self.run(admission.mechanisms, lambda: admissions.admit(admission), ALLOWED)
        if not verdict.allowed:
            raise self._refusal(admission, verdict, now or self._now())
        if admission.slot is not None:
            account.slot_key = admission.slot.key
        if admission.budget is not None:
            account.hold, account.held_usd = admission.budget.hold, admission.budget.amount_usd

    def _refusal(
        self, admission: Admission, verdict: AdmissionVerdict, now: datetime
    ) -> RouterError:
        if verdict.refused == "rate":
            check = admission.rates[verdict.rate_index - 1]
            message = f"Rate limit reached: {check.limit} requests per minute."
            return self._refuse(check.reason, message, verdict.retry_after_s)
        if verdict.refused == "tokens" and admission.tokens is not None:
            message = f"Rate limit reached: {admission.tokens.limit} tokens per minute."
            return self._refuse("tpm", message, 1.0)
        if verdict.refused == "slot" and admission.slot is not None:
            message = f"Too many parallel requests: at most {admission.slot.limit} at a time."
            return self._refuse("parallel", message, 1.0)
        return self._over_budget(admission, verdict, now)

    def _refuse(self, reason: str, message: str, retry_after_s: float) -> RateLimitError:
        self.metrics.limit_rejections.labels(reason).inc()
        return RateLimitError(message, retry_after_s=max(retry_after_s, 0.001))

    def _over_budget(
        self, admission: Admission, verdict: AdmissionVerdict, now: datetime
    ) -> BudgetExceededError:
        amount = admission.budget.amount_usd if admission.budget is not None else 0.0
        kind = verdict.period.split(":", 1)[0]
        self.metrics.limit_rejections.labels(f"budget_{kind}").inc()
        return BudgetExceededError(
            f"Budget exceeded: this key's {_ADJECTIVE[kind]} USD budget has "
            f"{verdict.remaining_usd:.6f} left and this request is predicted to cost "
            f"{amount:.6f}.",
            retry_after_s=seconds_until_reset(verdict.period, now),
        )

    def _settlement(self, account: RequestAccount) -> Settlement:
        key = account.caller.key
        if key is None:
            return Settlement()
        owner, periods = account.caller.owner, budget_periods(key.limits, self._now())
        cost, budget, tokens, slot = account.charge_usd(), None, None, None
        if periods and (account.hold is not None or cost > 0):
            budget = BudgetCharge(owner, periods, account.hold, cost, account.held_usd)
        if key.limits.tpm is not None and account.tokens:
            tokens = TokenCharge(owner, float(account.tokens), MINUTE)
        if account.slot_key is not None:
            slot = SlotRelease(account.slot_key, account.request_id)
        return Settlement(budget, tokens, slot)

    async def settle(self, account: RequestAccount) -> None:
        """Charge the realized cost and tokens, release the slot (as the response ends).
        A request refused or failed before its hold still counts in the request windows."""
        pending, account.admission = account.admission, None
        if pending is not None and pending.rates:
            await self._quietly(Admission(pending.rates))
        settlement = self._settlement(account)
        if settlement:
            await self._quietly(settlement)

    async def _quietly(self, change: Admission | Settlement) -> None:
        # After the response: a backend failure here is counted and logged by the
        # failsafe, never raised (a fail-closed policy applies to the next request).
        admissions = self.backend.admissions

        async def call() -> None:
            if isinstance(change, Admission):
                await admissions.admit(change)
            else:
                await admissions.settle(change)

        try:
            await self.run(change.mechanisms, call, None)
        except OverloadedError:
            pass
        except Exception as error:
            logger.warning("settling a request's limits failed: %r", error)

    def settle_soon(self, account: RequestAccount) -> None:
        """``settle`` in the background: issued now (so this process's next call to the
        backend queues behind it), awaited by nobody on the response path."""
        task = asyncio.ensure_future(self.settle(account))
        self._settling.add(task)
        task.add_done_callback(self._settling.discard)

    async def drain(self, timeout_s: float = 5.0) -> None:
        """Wait (up to ``timeout_s``) for the settlements still in flight."""
        if self._settling:
            await asyncio.wait(set(self._settling), timeout=timeout_s)

    async def spent(self, owner: str, limits: KeyLimits) -> dict[str, float]:
        """USD spent per current period, for the admin API."""
        spent: dict[str, float] = {}
        for period in budget_periods(limits, self._now()):
            spent[period.name] = await self._spent(owner, period.name)
        return spent

    async def _spent(self, owner: str, period: str) -> float:
        budgets = self.backend.budgets
        return await self.run("budget", lambda: budgets.spent(owner, period), 0.0)
