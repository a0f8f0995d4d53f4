"""One conformance suite over every shared-state backend: in-process and real Redis."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from router.errors import OverloadedError
from router.limits.failsafe import Failsafe
from router.limits.protocols import BudgetPeriod, StateBackend
from router.limits.redis_store import RedisBackend
from router.limits.resp import REDIS_ERRORS, RedisReplyError, RedisUnavailableError, RespClient
from tests.router.redis_server import RedisProcess


async def test_sliding_window_counts_exactly(backend: StateBackend) -> None:
    verdicts = [await backend.windows.hit("k", 3, 60.0, f"m{i}") for i in range(5)]
    assert [v.allowed for v in verdicts] == [True, True, True, False, False]
    assert 0 < verdicts[3].retry_after_s <= 60.0
    assert (await backend.windows.hit("other", 3, 60.0, "x")).allowed


async def test_sliding_window_frees_slots(backend: StateBackend) -> None:
    assert (await backend.windows.hit("short", 1, 0.2, "a")).allowed
    assert not (await backend.windows.hit("short", 1, 0.2, "b")).allowed
    await asyncio.sleep(0.25)
    assert (await backend.windows.hit("short", 1, 0.2, "c")).allowed


async def test_concurrent_hits_never_exceed_the_limit(backend: StateBackend) -> None:
    results = await asyncio.gather(
        *(backend.windows.hit("race", 25, 60.0, f"m{i}") for i in range(100))
    )
    assert sum(v.allowed for v in results) == 25


async def test_token_window_totals(backend: StateBackend) -> None:
    # An hour-long window, so both adds land in the same fixed bucket.
    assert await backend.windows.total("t", 3600.0) == 0.0
    await backend.windows.add("t", 30.0, 3600.0)
    await backend.windows.add("t", 12.0, 3600.0)
    assert await backend.windows.total("t", 3600.0) == pytest.approx(42.0)


async def test_semaphore_slots(backend: StateBackend) -> None:
    sem = backend.semaphores
    assert await sem.acquire("s", "a", 2, 60.0)
    assert await sem.acquire("s", "b", 2, 60.0)
    assert not await sem.acquire("s", "c", 2, 60.0)
    await sem.release("s", "a")
    assert await sem.acquire("s", "c", 2, 60.0)
    # A holder that never releases frees its slot when the slot expires.
    assert await sem.acquire("e", "dead", 1, 0.1)
    assert not await sem.acquire("e", "new", 1, 0.1)
    await asyncio.sleep(0.15)
    assert await sem.acquire("e", "new", 1, 60.0)


async def test_budget_holds_and_settles(backend: StateBackend) -> None:
    budgets = backend.budgets
    periods = [BudgetPeriod("day:2026-01-01", 1.0, 3600), BudgetPeriod("month:2026-01", 1.5, 3600)]
    assert (await budgets.reserve("b", periods, 0.6, "r1", 60.0)).allowed
    refused = await budgets.reserve("b", periods, 0.6, "r2", 60.0)
    assert not refused.allowed
    assert refused.period == "day:2026-01-01"
    assert refused.remaining_usd == pytest.approx(0.4)
    await budgets.settle("b", periods, "r1", 0.25)
    assert await budgets.spent("b", "day:2026-01-01") == pytest.approx(0.25)
    assert (await budgets.reserve("b", periods, 0.6, "r3", 60.0)).allowed
    await budgets.settle("b", periods, "r3", 0.7)
    month = await budgets.reserve("b", [periods[1]], 0.6, "r4", 60.0)
    assert (month.allowed, month.period) == (False, "month:2026-01")
    assert month.remaining_usd == pytest.approx(0.55)


async def test_concurrent_budget_holds_fit_the_budget(backend: StateBackend) -> None:
    periods = [BudgetPeriod("day:x", 1.0, 3600)]
    verdicts = await asyncio.gather(
        *(backend.budgets.reserve("race", periods, 0.03, f"h{i}", 60.0) for i in range(60))
    )
    assert sum(v.allowed for v in verdicts) == 33


async def test_shared_state_values_and_counters(backend: StateBackend) -> None:
    state = backend.state
    assert await state.get("circuit:m") is None
    await state.set("circuit:m", "open", ttl_s=0.2)
    assert await state.get("circuit:m") == "open"
    assert await state.incr("failures:m", 1.0, ttl_s=60.0) == 1.0
    assert await state.incr("failures:m", 2.5) == 3.5
    await asyncio.sleep(0.25)
    assert await state.get("circuit:m") is None
    await state.delete("failures:m")
    assert await state.get("failures:m") is None


async def _dead_backend() -> RedisBackend:
    from tests.router.servers import free_port

    return RedisBackend(f"redis://127.0.0.1:{free_port()}/0", timeout_s=0.2)


@pytest.mark.parametrize("policy", ["open", "closed"])
async def test_failsafe_applies_the_policy_without_hanging(
    policy: str, caplog: pytest.LogCaptureFixture
) -> None:
    errors: list[str] = []
    failsafe = Failsafe(
        {"rate": policy},  # type: ignore[dict-item]
        timeout_s=0.2,
        retry_s=5.0,
        errors=REDIS_ERRORS,
        on_error=errors.append,
    )
    backend = await _dead_backend()
    loop = asyncio.get_running_loop()
    started = loop.time()

    def call() -> Any:
        return backend.windows.hit("k", 1, 60.0, "m")

    for _ in range(3):
        if policy == "open":
            assert (await failsafe.run("rate", call, "fallback")) == "fallback"
        else:
            with pytest.raises(OverloadedError) as raised:
                await failsafe.run("rate", call, "fallback")
            assert raised.value.code == "limits_unavailable"
            assert raised.value.headers()["retry-after"] == "5"
    assert loop.time() - started < 1.0
    assert errors == ["rate"] * 3
    assert failsafe.down
    outage = [r for r in caplog.records if "shared state backend unavailable" in r.message]
    assert len(outage) == 1  # one log line per outage, not per request
    await backend.aclose()


async def test_resp_client_replies_errors_scripts_and_reconnects(redis: RedisProcess) -> None:
    client = RespClient(redis.url.removesuffix("/0") + "/3")
    assert await client.call("SET", "resp:x", "héllo") == "OK"
    assert await client.call("GET", "resp:x") == "héllo"
    assert await client.call("GET", "resp:missing") is None
    assert await client.call("RPUSH", "resp:l", "a", "b") == 2
    assert await client.call("LRANGE", "resp:l", 0, -1) == ["a", "b"]
    with pytest.raises(RedisReplyError):
        await client.call("INCR", "resp:x")
    source = "return {tonumber(ARGV[1]) + 1, KEYS[1]}"
    assert await client.script(source, ["k"], [41]) == [42, "k"]
    await client.call("SCRIPT", "FLUSH")  # NOSCRIPT: loaded again
    assert await client.script(source, ["k"], [1]) == [2, "k"]
    replies = await asyncio.gather(*(client.call("INCR", "resp:n") for _ in range(50)))
    assert sorted(replies) == list(range(1, 51))  # pipelined, answered in order
    other_db = RespClient(redis.url)
    assert await other_db.call("GET", "resp:x") is None  # /3 selected the database
    await other_db.aclose()
    redis.stop()
    with pytest.raises(RedisUnavailableError):
        await client.call("PING")
    redis.start()
    assert await client.call("PING") == "PONG"
    await client.aclose()


async def test_a_slow_reply_fails_that_call_only() -> None:
    import socket

    silent = socket.socket()  # accepts connections (backlog), never answers
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    errors: list[str] = []
    failsafe = Failsafe(
        {"budget": "closed", "rate": "open"},
        timeout_s=0.2,
        retry_s=5.0,
        errors=REDIS_ERRORS,
        on_error=errors.append,
    )
    backend = RedisBackend(f"redis://127.0.0.1:{silent.getsockname()[1]}/0", timeout_s=1.0)
    loop = asyncio.get_running_loop()
    started = loop.time()

    def hit() -> Any:
        return backend.windows.hit("k", 1, 60.0, "m")

    assert await failsafe.run("rate", hit, "open") == "open"
    with pytest.raises(OverloadedError):
        await failsafe.run("budget", hit, "unused")
    assert 0.35 < loop.time() - started < 1.0  # two deadlines, no hang
    assert errors == ["rate", "budget"]
    assert not failsafe.down  # slow is not down: the next call tries Redis again
    await backend.aclose()
    silent.close()


def test_replies_parse_only_once_complete_whatever_the_split() -> None:
    from router.limits.resp import parse_reply

    reply = b"*5\r\n:1\r\n$6\r\nh\xc3\xa9llo\r\n$-1\r\n*2\r\n+OK\r\n-ERR no\r\n*-1\r\n"
    wire = reply + b":7\r\n"
    for cut in range(len(reply)):
        assert parse_reply(wire[:cut]) is None, cut
    first = parse_reply(wire)
    assert first is not None
    parsed, end = first
    assert end == len(reply)
    assert parsed[:3] == [1, "héllo", None] and parsed[4] is None
    assert parsed[3][0] == "OK" and str(parsed[3][1]) == "ERR no"
    assert parse_reply(wire, end) == (7, len(wire))
