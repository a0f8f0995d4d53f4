"""Whole-request admission and settlement (one backend call each) over both backends,
the RESP client's lazy writes, and the caller limits' one-round-trip path against Redis:
checks that wait for the budget hold, requests that fail before it still counted,
settlements off the response path drained at shutdown."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from prometheus_client import CollectorRegistry

from router.auth.context import Caller, RequestAccount
from router.auth.enforce import CallerLimits
from router.auth.keys import KeyLimits, VirtualKey
from router.errors import BudgetExceededError, RateLimitError
from router.limits.admission import (
    Admission,
    BudgetCharge,
    BudgetHold,
    RateCheck,
    Settlement,
    SlotClaim,
    SlotRelease,
    TokenCharge,
    TokenCheck,
)
from router.limits.failsafe import MECHANISMS, Failsafe
from router.limits.protocols import BudgetPeriod, StateBackend
from router.limits.redis_store import RedisBackend
from router.limits.resp import (
    LAZY_FLUSH_S,
    REDIS_ERRORS,
    RespClient,
)
from router.metrics import RouterMetrics
from tests.router.redis_server import RedisProcess

DAY = [BudgetPeriod("day:x", 1.0, 3600)]


def request_admission(n: int, amount_usd: float) -> Admission:
    rates = (
        RateCheck("global", 4, 60.0, f"g{n}", "global_rpm"),
        RateCheck("k", 10, 60.0, f"k{n}", "rpm"),
    )
    return Admission(
        rates,
        TokenCheck("k", 100, 60.0),
        SlotClaim("k", f"h{n}", 1, 60.0),
        BudgetHold("k", DAY, amount_usd, f"h{n}", 60.0),
    )


async def test_an_admission_counts_its_windows_and_takes_nothing_when_refused(
    backend: StateBackend,
) -> None:
    admissions = backend.admissions
    assert (await admissions.admit(request_admission(1, 0.6))).allowed
    assert (await admissions.admit(request_admission(2, 0.1))).refused == "slot"
    await admissions.settle(
        Settlement(
            BudgetCharge("k", DAY, "h1", 0.5, 0.6),
            TokenCharge("k", 100.0, 60.0),
            SlotRelease("k", "h1"),
        )
    )
    assert await backend.budgets.spent("k", "day:x") == pytest.approx(0.5)
    assert await backend.windows.total("k", 60.0) == pytest.approx(100.0)
    assert (await admissions.admit(request_admission(3, 0.1))).refused == "tokens"
    # Every refused request above still counted in the windows: the fourth is the last.
    assert (await admissions.admit(Admission(request_admission(4, 0).rates))).allowed
    full = await admissions.admit(Admission(request_admission(5, 0).rates))
    assert (full.refused, full.rate_index) == ("rate", 1)
    assert 0 < full.retry_after_s <= 60.0
    # A budget refusal takes no slot; what fits then takes both.
    over = Admission(slot=SlotClaim("k", "h6", 1, 60.0), budget=BudgetHold("k", DAY, 0.6, "h6", 60))
    refused = await admissions.admit(over)
    assert (refused.refused, refused.period) == ("budget", "day:x")
    assert refused.remaining_usd == pytest.approx(0.5)
    fits = Admission(slot=SlotClaim("k", "h7", 1, 60.0), budget=BudgetHold("k", DAY, 0.4, "h7", 60))
    assert (await admissions.admit(fits)).allowed
    assert not (await backend.budgets.reserve("k", DAY, 0.2, "h8", 60.0)).allowed


async def test_concurrent_admissions_fit_the_budget(backend: StateBackend) -> None:
    def one(n: int) -> Admission:
        hold = BudgetHold("race", DAY, 0.03, f"h{n}", 60.0)
        return Admission((RateCheck("race", 40, 60.0, f"m{n}", "rpm"),), budget=hold)

    verdicts = await asyncio.gather(*(backend.admissions.admit(one(n)) for n in range(60)))
    assert sum(v.allowed for v in verdicts) == 33
    assert {v.refused for v in verdicts} == {"", "budget", "rate"}


async def test_a_lazy_call_shares_the_next_write_and_never_waits_long(redis: RedisProcess) -> None:
    client = RespClient(redis.url)
    incr = "return redis.call('INCR', KEYS[1])"
    await client.call("DEL", "lazy:n")
    assert await client.script(incr, ["lazy:n"], []) == 1  # loads the script
    lazy = asyncio.ensure_future(client.script(incr, ["lazy:n"], [], urgent=False))
    await asyncio.sleep(0)
    assert await client.call("GET", "lazy:n") == "2"  # written before the urgent call
    assert await lazy == 2
    loop = asyncio.get_running_loop()
    started = loop.time()
    assert await client.script(incr, ["lazy:n"], [], urgent=False) == 3
    assert loop.time() - started < LAZY_FLUSH_S + 0.5
    await client.aclose()


def caller_limits(url: str) -> tuple[CallerLimits, RedisBackend]:
    backend = RedisBackend(url, timeout_s=1.0)
    failsafe = Failsafe(
        dict.fromkeys(MECHANISMS, "open"),
        timeout_s=1.0,
        retry_s=1.0,
        errors=REDIS_ERRORS,
        on_error=lambda mechanism: None,
    )
    metrics = RouterMetrics(CollectorRegistry())
    limits = CallerLimits(backend, failsafe, metrics, global_rpm=None, slot_ttl_s=60.0)
    return limits, backend


async def test_redis_checks_leave_with_the_hold_and_settle_off_the_response_path(
    redis: RedisProcess,
) -> None:
    limits, backend = caller_limits(redis.url)
    await backend.client.call("FLUSHALL")
    key = VirtualKey("k1", "t", KeyLimits(rpm=3, budget_usd_per_day=0.25), datetime.now(UTC))
    accounts = [RequestAccount(Caller("key", key), f"r{n}") for n in range(5)]
    rate_log = "paretoroute:rate:key:k1"
    await limits.admit(accounts[0], generation=True)
    assert await backend.client.call("ZCARD", rate_log) == 0  # waits for the hold
    await limits.reserve(accounts[0], 0.1)
    assert await backend.client.call("ZCARD", rate_log) == 1
    assert accounts[0].hold == "r0"
    await limits.admit(accounts[1], generation=True)
    await limits.settle(accounts[1])  # failed before its plan: still counted
    assert await backend.client.call("ZCARD", rate_log) == 2
    await limits.admit(accounts[2], generation=True)
    with pytest.raises(BudgetExceededError):
        await limits.reserve(accounts[2], 0.2)  # 0.1 held of 0.25
    await limits.admit(accounts[3], generation=True)
    with pytest.raises(RateLimitError):
        await limits.reserve(accounts[3], 0.01)
    accounts[0].status, accounts[0].recorded, accounts[0].cost_usd = 200, True, 0.05
    limits.settle_soon(accounts[0])
    await limits.drain()
    spent = await limits.spent("key:k1", key.limits)
    assert list(spent.values()) == [pytest.approx(0.05)]
    assert await backend.client.call("ZCARD", "paretoroute:holds:key:k1") == 0
    await backend.aclose()
