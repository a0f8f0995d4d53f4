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

_CURSOR = """
local k, a = 0, 0
local function key() k = k + 1 return KEYS[k] end
local function arg() a = a + 1 return ARGV[a] end
"""

#: One request's whole admission in one round trip. KEYS and ARGV are read in sections:
#: rates (ARGV count, then per check KEYS rate log, ARGV limit, window_ms, member), then
#: three optional sections, each behind an ARGV flag '1'/'0': tokens (KEYS prefix, ARGV
#: limit, window_ms), slot (KEYS slots, ARGV limit, holder, ttl_ms), budget (KEYS holds,
#: ARGV amount, hold member, hold_ttl_ms, period count, then per period KEYS spent, ARGV
#: limit). Every request window counts the request when it fits, whatever the others say;
#: the slot and the hold are taken only when everything fits. Returns {0}, or the first
#: refusal: {1, rate index, ms until a slot frees}, {2} tokens, {3} slot,
#: {4, period index, remaining}.
ADMIT = (
    NOW_MS
    + _CURSOR
    + """
local refused = nil
for i = 1, tonumber(arg()) do
  local log, limit, window, member = key(), tonumber(arg()), tonumber(arg()), arg()
  redis.call('ZREMRANGEBYSCORE', log, '-inf', now - window)
  if redis.call('ZCARD', log) < limit then
    redis.call('ZADD', log, now, member)
    redis.call('PEXPIRE', log, window)
  elseif not refused then
    local oldest = redis.call('ZRANGE', log, 0, 0, 'WITHSCORES')
    refused = {1, i, tonumber(oldest[2]) + window - now}
  end
end
if refused then
  return refused
end
if arg() == '1' then
  local prefix, limit, window = key(), tonumber(arg()), tonumber(arg())
  local index = math.floor(now / window)
  local elapsed = (now - index * window) / window
  local current = tonumber(redis.call('GET', prefix .. ':' .. index) or '0')
  local previous = tonumber(redis.call('GET', prefix .. ':' .. (index - 1)) or '0')
  if current + previous * (1 - elapsed) >= limit then
    return {2}
  end
end
local slot = nil
if arg() == '1' then
  slot = {key(), tonumber(arg()), arg(), tonumber(arg())}
  redis.call('ZREMRANGEBYSCORE', slot[1], '-inf', now)
  if redis.call('ZCARD', slot[1]) >= slot[2] then
    return {3}
  end
end
local hold = nil
if arg() == '1' then
  hold = {key(), tonumber(arg()), arg(), tonumber(arg())}
  redis.call('ZREMRANGEBYSCORE', hold[1], '-inf', now)
  local held = 0
  for _, member in ipairs(redis.call('ZRANGE', hold[1], 0, -1)) do
    held = held + tonumber(string.match(member, '|([^|]*)$'))
  end
  for i = 1, tonumber(arg()) do
    local spent = tonumber(redis.call('GET', key()) or '0')
    local remaining = tonumber(arg()) - spent - held
    if hold[2] > remaining or remaining <= 0 then
      return {4, i, tostring(remaining)}
    end
  end
end
if slot then
  redis.call('ZADD', slot[1], now + slot[4], slot[3])
  redis.call('PEXPIRE', slot[1], slot[4])
end
if hold then
  redis.call('ZADD', hold[1], now + hold[4], hold[3])
  redis.call('PEXPIRE', hold[1], hold[4])
end
return {0}
"""
)

#: One request's settlement in one round trip, in three optional sections behind an ARGV
#: flag: budget (KEYS holds, ARGV hold member ('' none), amount, period count, then per
#: period KEYS spent, ARGV ttl_s), tokens (KEYS prefix, ARGV window_ms, amount), slot
#: (KEYS slots, ARGV holder). Same effects as BUDGET_SETTLE, BUCKET_ADD and ZREM.
SETTLE = (
    NOW_MS
    + _CURSOR
    + """
if arg() == '1' then
  local holds, member, amount = key(), arg(), arg()
  if member ~= '' then
    redis.call('ZREM', holds, member)
  end
  for _ = 1, tonumber(arg()) do
    local spent, ttl = key(), tonumber(arg())
    if tonumber(amount) > 0 then
      redis.call('INCRBYFLOAT', spent, amount)
      redis.call('EXPIRE', spent, ttl)
    end
  end
end
if arg() == '1' then
  local prefix, window, amount = key(), tonumber(arg()), arg()
  local current = prefix .. ':' .. math.floor(now / window)
  redis.call('INCRBYFLOAT', current, amount)
  redis.call('PEXPIRE', current, 2 * window)
end
if arg() == '1' then
  redis.call('ZREM', key(), arg())
end
return 1
"""
)
