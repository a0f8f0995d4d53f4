"""``BreakerStore`` on Redis: every replica sharing one Redis sees the same circuits.

Each operation is one Lua script (one round trip, atomic), with the same transitions as
``InProcessBreakerStore`` and times from Redis ``TIME``, so replicas on different clocks
agree on windows and cooldowns. Keys per model, under ``paretoroute:breaker:<model>``:

- the key itself, a hash: ``opened_at`` (ms, absent while closed) and ``seq`` (ids for
  the sorted-set members); it expires after ``idle_ttl_s`` without writes, so a model
  untouched that long (or gone from the catalog) forgets its circuit;
- ``…:calls`` and ``…:failures``: sorted sets of the window's calls by time, expiring
  with the window;
- ``…:probes``: half-open probe slots by time, expiring after the cooldown (a probe whose
  caller vanished frees its slot).

Redis errors propagate (``RedisUnavailableError``, ``RedisReplyError``);
``router.resilience.fallback_breaker`` decides what happens then.
"""

from __future__ import annotations

from router.limits.resp import RespClient
from router.resilience.breaker import BreakerConfig, CircuitState, CircuitView, Observe

PREFIX = "paretoroute:breaker:"
#: A circuit without writes for this long is forgotten (it reads as closed again).
IDLE_TTL_S = 86_400.0
#: Script answers encode the state as a number.
_STATES = (CircuitState.CLOSED, CircuitState.HALF_OPEN, CircuitState.OPEN)

# KEYS: hash, calls, failures, probes.
# ARGV: window_ms, min_calls, failure_rate, cooldown_ms, probes, idle_ms[, ok].
# ``view()`` gives the state (0 closed, 1 half-open, 2 open) and, when open, ms left.
_PRELUDE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local window, min_calls = tonumber(ARGV[1]), tonumber(ARGV[2])
local rate, cooldown = tonumber(ARGV[3]), tonumber(ARGV[4])
local probes, idle = tonumber(ARGV[5]), tonumber(ARGV[6])
local function view()
  local opened = redis.call('HGET', KEYS[1], 'opened_at')
  if not opened then return 0, 0 end
  local waited = now - tonumber(opened)
  if waited >= cooldown then return 1, 0 end
  return 2, cooldown - waited
end
local function open_now()
  redis.call('HSET', KEYS[1], 'opened_at', now)
  redis.call('PEXPIRE', KEYS[1], idle)
  redis.call('DEL', KEYS[2], KEYS[3], KEYS[4])
  return {2, cooldown}
end
"""

#: Returns {state, ms until half-open}.
STATE = (
    _PRELUDE
    + """
local state, wait = view()
return {state, wait}
"""
)

#: Returns {1 when the call may go, state, ms until half-open}.
TRY_ACQUIRE = (
    _PRELUDE
    + """
local state, wait = view()
if state ~= 1 then return {state == 0 and 1 or 0, state, wait} end
redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', now - cooldown)
if redis.call('ZCARD', KEYS[4]) >= probes then return {0, 1, 0} end
redis.call('ZADD', KEYS[4], now, redis.call('HINCRBY', KEYS[1], 'seq', 1))
redis.call('PEXPIRE', KEYS[4], cooldown)
redis.call('PEXPIRE', KEYS[1], idle)
return {1, 1, 0}
"""
)

#: ARGV[7] is 1 for a success. Returns {state, ms until half-open} after the call counts.
RECORD = (
    _PRELUDE
    + """
local ok = ARGV[7] == '1'
local state, wait = view()
if state == 1 then
  if not ok then return open_now() end
  redis.call('HDEL', KEYS[1], 'opened_at')
  redis.call('DEL', KEYS[2], KEYS[3], KEYS[4])
  return {0, 0}
end
if state == 2 then return {2, wait} end
local member = redis.call('HINCRBY', KEYS[1], 'seq', 1)
redis.call('PEXPIRE', KEYS[1], idle)
redis.call('ZADD', KEYS[2], now, member)
if not ok then redis.call('ZADD', KEYS[3], now, member) end
local oldest = '(' .. (now - window)
for i = 2, 3 do
  redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', oldest)
  redis.call('PEXPIRE', KEYS[i], window)
end
local calls, failures = redis.call('ZCARD', KEYS[2]), redis.call('ZCARD', KEYS[3])
if calls >= min_calls and failures >= rate * calls then return open_now() end
return {0, 0}
"""
)


def _ms(seconds: float) -> int:
    return max(1, round(seconds * 1000))


def breaker_keys(model: str) -> list[str]:
    """The hash, calls, failures and probes keys of ``model``'s circuit."""
    base = PREFIX + model
    return [base, f"{base}:calls", f"{base}:failures", f"{base}:probes"]


class RedisBreakerStore:
    """Circuit state per model in Redis; ``observe`` hears every state a call sees."""

    def __init__(
        self,
        client: RespClient,
        config: BreakerConfig,
        *,
        observe: Observe | None = None,
        idle_ttl_s: float = IDLE_TTL_S,
    ) -> None:
        self.config = config
        self._client = client
        self._observe = observe
        # The idle expiry must outlive the window and the cooldown, or it cuts them short.
        idle = max(idle_ttl_s, config.window_s + config.cooldown_s)
        self._args: list[object] = [
            _ms(config.window_s),
            config.min_calls,
            repr(config.failure_rate),
            _ms(config.cooldown_s),
            config.half_open_probes,
            _ms(idle),
        ]

    async def _script(self, source: str, model: str, *extra: object) -> list[int]:
        reply = await self._client.script(source, breaker_keys(model), [*self._args, *extra])
        return [int(value) for value in reply]

    def _view(self, model: str, state: int, wait_ms: int) -> CircuitView:
        view = CircuitView(_STATES[state], max(wait_ms, 0) / 1000.0)
        if self._observe is not None:
            self._observe(model, view.state)
        return view

    async def state(self, model: str) -> CircuitView:
        state, wait_ms = await self._script(STATE, model)
        return self._view(model, state, wait_ms)

    async def try_acquire(self, model: str) -> bool:
        allowed, state, wait_ms = await self._script(TRY_ACQUIRE, model)
        self._view(model, state, wait_ms)
        return bool(allowed)

    async def record(self, model: str, ok: bool) -> None:
        state, wait_ms = await self._script(RECORD, model, 1 if ok else 0)
        self._view(model, state, wait_ms)

    async def aclose(self) -> None:
        """Close the Redis connection."""
        await self._client.aclose()
