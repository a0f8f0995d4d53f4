"""Lua scripts run atomically by Redis. Times come from Redis ``TIME`` so replicas agree."""

from __future__ import annotations

NOW_MS = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
"""

#: KEYS[1] sorted set of timestamps. ARGV: limit, window_ms, member.
#: Returns {1, 0} when counted, {0, ms until the oldest event leaves the window} when full.
SLIDING_HIT = (
    NOW_MS
    + """
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[1]) then
  redis.call('ZADD', KEYS[1], now, ARGV[3])
  redis.call('PEXPIRE', KEYS[1], window)
  return {1, 0}
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return {0, tonumber(oldest[2]) + window - now}
"""
)

_BUCKETS = """
local window = tonumber(ARGV[1])
local index = math.floor(now / window)
local elapsed = (now - index * window) / window
local current = KEYS[1] .. ':' .. index
local previous = KEYS[1] .. ':' .. (index - 1)
"""

#: KEYS[1] prefix. ARGV: window_ms, amount. Adds to the current fixed bucket.
BUCKET_ADD = (
    NOW_MS
    + _BUCKETS
    + """
redis.call('INCRBYFLOAT', current, ARGV[2])
redis.call('PEXPIRE', current, 2 * window)
return 1
"""
)

#: KEYS[1] prefix. ARGV: window_ms. Current bucket + the overlapping part of the previous.
BUCKET_TOTAL = (
    NOW_MS
    + _BUCKETS
    + """
local a = tonumber(redis.call('GET', current) or '0')
local b = tonumber(redis.call('GET', previous) or '0')
return tostring(a + b * (1 - elapsed))
"""
)

#: KEYS[1] sorted set holder → expiry. ARGV: limit, holder, ttl_ms. Returns 1 or 0.
SEMAPHORE_ACQUIRE = (
    NOW_MS
    + """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then
  return 0
end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[2])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[3]))
return 1
"""
)

#: KEYS[1] holds (sorted set "hold|amount" → expiry), KEYS[2..] spent per period.
#: ARGV: amount, hold member, hold_ttl_ms, then one limit per period key.
#: Returns {1} with the hold placed, or {0, period index, remaining} when it does not fit.
BUDGET_RESERVE = (
    NOW_MS
    + """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local held = 0
for _, member in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  held = held + tonumber(string.match(member, '|([^|]*)$'))
end
local amount = tonumber(ARGV[1])
for i = 2, #KEYS do
  local spent = tonumber(redis.call('GET', KEYS[i]) or '0')
  local remaining = tonumber(ARGV[i + 2]) - spent - held
  if amount > remaining or remaining <= 0 then
    return {0, i - 1, tostring(remaining)}
  end
end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[2])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[3]))
return {1}
"""
)

#: KEYS[1] holds, KEYS[2..] spent per period. ARGV: hold member ('' none), amount,
#: then one ttl (s) per period key. Drops the hold and adds the realized amount.
BUDGET_SETTLE = """
if ARGV[1] ~= '' then
  redis.call('ZREM', KEYS[1], ARGV[1])
end
if tonumber(ARGV[2]) > 0 then
  for i = 2, #KEYS do
    redis.call('INCRBYFLOAT', KEYS[i], ARGV[2])
    redis.call('EXPIRE', KEYS[i], tonumber(ARGV[i + 1]))
  end
end
return 1
"""

#: KEYS[1]. ARGV: amount, ttl_ms (0 = none). INCRBYFLOAT, expiry set on creation.
COUNTER_INCR = """
local value = redis.call('INCRBYFLOAT', KEYS[1], ARGV[1])
if tonumber(ARGV[2]) > 0 and redis.call('PTTL', KEYS[1]) < 0 then
  redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]))
end
return value
"""
