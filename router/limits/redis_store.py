"""Redis implementations of the shared-state protocols: one Lua script per operation,
over the small pipelined client in ``router.limits.resp``.

Every key lives under ``paretoroute:`` and names a mechanism and an opaque id, never a
caller's key. One Redis instance (scripts build bucket keys themselves, so not Cluster).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from router.limits import lua
from router.limits.admission import Admission, AdmissionVerdict, Settlement
from router.limits.protocols import BudgetPeriod, BudgetVerdict, WindowVerdict
from router.limits.resp import RespClient

PREFIX = "paretoroute:"


def _ms(seconds: float) -> int:
    return max(1, round(seconds * 1000))


class RedisWindows:
    """Sliding log (exact) for requests, two fixed buckets (approximate) for tokens."""

    def __init__(self, client: RespClient) -> None:
        self._client = client

    async def hit(self, key: str, limit: int, window_s: float, member: str) -> WindowVerdict:
        allowed, wait_ms = await self._client.script(
            lua.SLIDING_HIT, [f"{PREFIX}rate:{key}"], [limit, _ms(window_s), member]
        )
        return WindowVerdict(bool(allowed), retry_after_s=float(wait_ms) / 1000.0)

    async def add(self, key: str, amount: float, window_s: float) -> None:
        await self._client.script(
            lua.BUCKET_ADD, [f"{PREFIX}tokens:{key}"], [_ms(window_s), repr(amount)]
        )

    async def total(self, key: str, window_s: float) -> float:
        value = await self._client.script(
            lua.BUCKET_TOTAL, [f"{PREFIX}tokens:{key}"], [_ms(window_s)]
        )
        return float(value)


class RedisSemaphores:
    """Slots in a sorted set scored by expiry."""

    def __init__(self, client: RespClient) -> None:
        self._client = client

    async def acquire(self, key: str, holder: str, limit: int, ttl_s: float) -> bool:
        taken = await self._client.script(
            lua.SEMAPHORE_ACQUIRE, [f"{PREFIX}slots:{key}"], [limit, holder, _ms(ttl_s)]
        )
        return bool(taken)

    async def release(self, key: str, holder: str) -> None:
        await self._client.call("ZREM", f"{PREFIX}slots:{key}", holder)


def _hold_member(hold: str, amount_usd: float) -> str:
    """A budget hold's member in its sorted set: the id and the amount held (so two
    holds of one id never collide and the amount can be summed back)."""
    return f"{hold}|{amount_usd!r}"


class RedisBudgets:
    """Spend per period with INCRBYFLOAT; holds in a sorted set scored by expiry."""

    def __init__(self, client: RespClient) -> None:
        self._client = client
        #: hold id → sorted-set member ("hold|amount"); the process that holds settles.
        self._members: dict[str, str] = {}

    @staticmethod
    def _keys(key: str, periods: Sequence[BudgetPeriod]) -> list[str]:
        return [f"{PREFIX}holds:{key}"] + [f"{PREFIX}spent:{key}:{p.name}" for p in periods]

    async def reserve(
        self,
        key: str,
        periods: Sequence[BudgetPeriod],
        amount_usd: float,
        hold: str,
        hold_ttl_s: float,
    ) -> BudgetVerdict:
        limits = [repr(p.limit_usd) for p in periods]
        member = _hold_member(hold, amount_usd)
        result = await self._client.script(
            lua.BUDGET_RESERVE,
            self._keys(key, periods),
            [repr(amount_usd), member, _ms(hold_ttl_s), *limits],
        )
        if int(result[0]) == 1:
            self._members[hold] = member
            return BudgetVerdict(True)
        period = periods[int(result[1]) - 1]
        return BudgetVerdict(False, period.name, max(float(result[2]), 0.0))

    async def settle(
        self, key: str, periods: Sequence[BudgetPeriod], hold: str | None, amount_usd: float
    ) -> None:
        member = self._members.pop(hold, "") if hold is not None else ""
        await self._client.script(
            lua.BUDGET_SETTLE,
            self._keys(key, periods),
            [member, repr(amount_usd), *[p.ttl_s for p in periods]],
        )

    async def spent(self, key: str, period: str) -> float:
        value = await self._client.call("GET", f"{PREFIX}spent:{key}:{period}")
        return float(value) if value is not None else 0.0


class RedisState:
    """Plain strings with expiry; counters through INCRBYFLOAT."""

    def __init__(self, client: RespClient) -> None:
        self._client = client

    async def get(self, key: str) -> str | None:
        value = await self._client.call("GET", f"{PREFIX}state:{key}")
        return None if value is None else str(value)

    async def set(self, key: str, value: str, ttl_s: float | None = None) -> None:
        expiry = ["PX", _ms(ttl_s)] if ttl_s else []
        await self._client.call("SET", f"{PREFIX}state:{key}", value, *expiry)

    async def incr(self, key: str, amount: float = 1.0, ttl_s: float | None = None) -> float:
        ttl = _ms(ttl_s) if ttl_s else 0
        value = await self._client.script(
            lua.COUNTER_INCR, [f"{PREFIX}state:{key}"], [repr(amount), ttl]
        )
        return float(value)

    async def delete(self, key: str) -> None:
        await self._client.call("DEL", f"{PREFIX}state:{key}")


class RedisAdmissions:
    """A whole admission in one ``lua.ADMIT`` call, a settlement in one ``lua.SETTLE``."""

    def __init__(self, client: RespClient) -> None:
        self._client = client

    async def admit(self, admission: Admission) -> AdmissionVerdict:
        keys: list[str] = [f"{PREFIX}rate:{check.key}" for check in admission.rates]
        args: list[object] = [len(admission.rates)]
        for check in admission.rates:
            args += [check.limit, _ms(check.window_s), check.member]
        tokens, slot, budget = admission.tokens, admission.slot, admission.budget
        args.append(int(tokens is not None))
        if tokens is not None:
            keys.append(f"{PREFIX}tokens:{tokens.key}")
            args += [tokens.limit, _ms(tokens.window_s)]
        args.append(int(slot is not None))
        if slot is not None:
            keys.append(f"{PREFIX}slots:{slot.key}")
            args += [slot.limit, slot.holder, _ms(slot.ttl_s)]
        args.append(int(budget is not None))
        if budget is not None:
            member = _hold_member(budget.hold, budget.amount_usd)
            keys.append(f"{PREFIX}holds:{budget.key}")
            args += [repr(budget.amount_usd), member, _ms(budget.ttl_s), len(budget.periods)]
            for period in budget.periods:
                keys.append(f"{PREFIX}spent:{budget.key}:{period.name}")
                args.append(repr(period.limit_usd))
        reply = await self._client.script(lua.ADMIT, keys, args)
        return self._verdict(admission, reply)

    def _verdict(self, admission: Admission, reply: Any) -> AdmissionVerdict:
        code = int(reply[0])
        if code == 0:
            return AdmissionVerdict()
        if code == 1:
            wait_ms = float(reply[2])
            return AdmissionVerdict("rate", int(reply[1]), retry_after_s=wait_ms / 1000.0)
        if code == 4 and admission.budget is not None:
            period = admission.budget.periods[int(reply[1]) - 1]
            remaining = max(float(reply[2]), 0.0)
            return AdmissionVerdict("budget", period=period.name, remaining_usd=remaining)
        return AdmissionVerdict("tokens" if code == 2 else "slot")

    async def settle(self, settlement: Settlement) -> None:
        keys: list[str] = []
        args: list[object] = []
        budget, tokens, slot = settlement.budget, settlement.tokens, settlement.slot
        args.append(int(budget is not None))
        if budget is not None:
            hold = budget.hold
            keys.append(f"{PREFIX}holds:{budget.key}")
            member = _hold_member(hold, budget.held_usd) if hold is not None else ""
            args += [member, repr(budget.amount_usd), len(budget.periods)]
            for period in budget.periods:
                keys.append(f"{PREFIX}spent:{budget.key}:{period.name}")
                args.append(period.ttl_s)
        args.append(int(tokens is not None))
        if tokens is not None:
            keys.append(f"{PREFIX}tokens:{tokens.key}")
            args += [_ms(tokens.window_s), repr(tokens.amount)]
        args.append(int(slot is not None))
        if slot is not None:
            keys.append(f"{PREFIX}slots:{slot.key}")
            args.append(slot.holder)
        await self._client.script(lua.SETTLE, keys, args, urgent=False)


class RedisBackend:
    """Every mechanism on one Redis; calls time out after ``timeout_s``."""

    name = "redis"

    def __init__(self, url: str, timeout_s: float) -> None:
        self.client = RespClient(url, connect_timeout_s=timeout_s)
        self.windows = RedisWindows(self.client)
        self.semaphores = RedisSemaphores(self.client)
        self.budgets = RedisBudgets(self.client)
        self.state = RedisState(self.client)
        self.admissions = RedisAdmissions(self.client)

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self.client.aclose()
