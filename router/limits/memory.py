"""In-process implementations of the shared-state protocols, for a single node.

Everything runs on the event loop without awaiting, so each call is atomic. Clocks are
injectable for tests; windows use a monotonic clock, budget periods are named by the
caller (UTC day / month).
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from router.limits.admission import Admission, AdmissionVerdict, Settlement
from router.limits.protocols import BudgetPeriod, BudgetVerdict, WindowVerdict

Clock = Callable[[], float]


class MemoryWindows:
    """Exact sliding log for ``hit``; two fixed buckets for ``add``/``total``."""

    def __init__(self, clock: Clock = time.monotonic) -> None:
        self._clock = clock
        self._logs: dict[str, deque[float]] = {}
        self._buckets: dict[str, dict[int, float]] = {}

    async def hit(self, key: str, limit: int, window_s: float, member: str) -> WindowVerdict:
        now = self._clock()
        log = self._logs.setdefault(key, deque())
        while log and log[0] <= now - window_s:
            log.popleft()
        if len(log) < limit:
            log.append(now)
            return WindowVerdict(True)
        return WindowVerdict(False, retry_after_s=log[0] + window_s - now)

    def _bucket(self, window_s: float) -> tuple[int, float]:
        position = self._clock() / window_s
        return math.floor(position), position - math.floor(position)

    async def add(self, key: str, amount: float, window_s: float) -> None:
        index, _ = self._bucket(window_s)
        buckets = self._buckets.setdefault(key, {})
        buckets[index] = buckets.get(index, 0.0) + amount
        for old in [i for i in buckets if i < index - 1]:
            del buckets[old]

    async def total(self, key: str, window_s: float) -> float:
        index, elapsed = self._bucket(window_s)
        buckets = self._buckets.get(key, {})
        return buckets.get(index, 0.0) + buckets.get(index - 1, 0.0) * (1.0 - elapsed)


class MemorySemaphores:
    """Slots per key with an expiry each."""

    def __init__(self, clock: Clock = time.monotonic) -> None:
        self._clock = clock
        self._slots: dict[str, dict[str, float]] = {}

    async def acquire(self, key: str, holder: str, limit: int, ttl_s: float) -> bool:
        now = self._clock()
        slots = self._slots.setdefault(key, {})
        for expired in [h for h, until in slots.items() if until <= now]:
            del slots[expired]
        if len(slots) >= limit:
            return False
        slots[holder] = now + ttl_s
        return True

    async def release(self, key: str, holder: str) -> None:
        slots = self._slots.get(key)
        if slots is not None:
            slots.pop(holder, None)


@dataclass
class _Ledger:
    spent: dict[str, float] = field(default_factory=dict)
    holds: dict[str, tuple[float, float]] = field(default_factory=dict)


class MemoryBudgets:
    """Spend per named period plus holds that expire."""

    def __init__(self, clock: Clock = time.monotonic) -> None:
        self._clock = clock
        self._ledgers: dict[str, _Ledger] = {}

    def _held(self, ledger: _Ledger) -> float:
        now = self._clock()
        for expired in [h for h, (_, until) in ledger.holds.items() if until <= now]:
            del ledger.holds[expired]
        return sum(amount for amount, _ in ledger.holds.values())

    async def reserve(
        self,
        key: str,
        periods: Sequence[BudgetPeriod],
        amount_usd: float,
        hold: str,
        hold_ttl_s: float,
    ) -> BudgetVerdict:
        ledger = self._ledgers.setdefault(key, _Ledger())
        held = self._held(ledger)
        for period in periods:
            remaining = period.limit_usd - ledger.spent.get(period.name, 0.0) - held
            if amount_usd > remaining or remaining <= 0:
                return BudgetVerdict(False, period.name, max(remaining, 0.0))
        ledger.holds[hold] = (amount_usd, self._clock() + hold_ttl_s)
        return BudgetVerdict(True)

    async def settle(
        self, key: str, periods: Sequence[BudgetPeriod], hold: str | None, amount_usd: float
    ) -> None:
        ledger = self._ledgers.setdefault(key, _Ledger())
        if hold is not None:
            ledger.holds.pop(hold, None)
        names = {period.name for period in periods}
        for name in names:
            ledger.spent[name] = ledger.spent.get(name, 0.0) + amount_usd
        # Old periods are never read again; keep only the current ones.
        for stale in [name for name in ledger.spent if name not in names]:
            del ledger.spent[stale]

    async def spent(self, key: str, period: str) -> float:
        ledger = self._ledgers.get(key)
        return ledger.spent.get(period, 0.0) if ledger else 0.0


class MemoryState:
    """A dict with expiry."""

    def __init__(self, clock: Clock = time.monotonic) -> None:
        self._clock = clock
        self._values: dict[str, tuple[str, float]] = {}

    def _live(self, key: str) -> str | None:
        item = self._values.get(key)
        if item is None:
            return None
        if item[1] <= self._clock():
            del self._values[key]
            return None
        return item[0]

    async def get(self, key: str) -> str | None:
        return self._live(key)

    async def set(self, key: str, value: str, ttl_s: float | None = None) -> None:
        self._values[key] = (value, self._clock() + ttl_s if ttl_s else math.inf)

    async def incr(self, key: str, amount: float = 1.0, ttl_s: float | None = None) -> float:
        current = self._live(key)
        if current is None:
            await self.set(key, repr(float(amount)), ttl_s)
            return float(amount)
        value = float(current) + amount
        self._values[key] = (repr(value), self._values[key][1])
        return value

    async def delete(self, key: str) -> None:
        self._values.pop(key, None)


class MemoryAdmissions:
    """Whole-request admission from the parts above; atomic because nothing awaits."""

    def __init__(
        self, windows: MemoryWindows, semaphores: MemorySemaphores, budgets: MemoryBudgets
    ) -> None:
        self._windows = windows
        self._semaphores = semaphores
        self._budgets = budgets

    async def _rates(self, admission: Admission) -> AdmissionVerdict | None:
        refusal = None
        for index, check in enumerate(admission.rates, 1):
            hit = await self._windows.hit(check.key, check.limit, check.window_s, check.member)
            if not hit.allowed and refusal is None:
                refusal = AdmissionVerdict("rate", index, hit.retry_after_s)
        tokens = admission.tokens
        if refusal is not None or tokens is None:
            return refusal
        used = await self._windows.total(tokens.key, tokens.window_s)
        return AdmissionVerdict("tokens") if used >= tokens.limit else None

    async def admit(self, admission: Admission) -> AdmissionVerdict:
        refusal = await self._rates(admission)
        if refusal is not None:
            return refusal
        slot, budget = admission.slot, admission.budget
        if slot is not None and not await self._semaphores.acquire(
            slot.key, slot.holder, slot.limit, slot.ttl_s
        ):
            return AdmissionVerdict("slot")
        if budget is not None:
            held = await self._budgets.reserve(
                budget.key, budget.periods, budget.amount_usd, budget.hold, budget.ttl_s
            )
            if not held.allowed:
                if slot is not None:
                    await self._semaphores.release(slot.key, slot.holder)
                return AdmissionVerdict(
                    "budget", period=held.period, remaining_usd=held.remaining_usd
                )
        return AdmissionVerdict()

    async def settle(self, settlement: Settlement) -> None:
        budget, tokens, slot = settlement.budget, settlement.tokens, settlement.slot
        if budget is not None:
            await self._budgets.settle(budget.key, budget.periods, budget.hold, budget.amount_usd)
        if tokens is not None:
            await self._windows.add(tokens.key, tokens.amount, tokens.window_s)
        if slot is not None:
            await self._semaphores.release(slot.key, slot.holder)


class MemoryBackend:
    """Every mechanism in this process."""

    name = "memory"

    def __init__(self, clock: Clock = time.monotonic) -> None:
        self.windows = MemoryWindows(clock)
        self.semaphores = MemorySemaphores(clock)
        self.budgets = MemoryBudgets(clock)
        self.state = MemoryState(clock)
        self.admissions = MemoryAdmissions(self.windows, self.semaphores, self.budgets)

    async def aclose(self) -> None:
        """Nothing to release."""
