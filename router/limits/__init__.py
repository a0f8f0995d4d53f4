"""Shared state for caller limits and budgets, and the server's own limits.

Four small protocols (``router.limits.protocols``), each with an in-process
implementation for one node (``memory``) and a Redis one for several replicas
(``redis_store``, atomic Lua scripts):

- ``RateWindows``: an exact sliding-window request counter (requests per minute) and an
  approximate sliding-window token counter (tokens per minute: two fixed buckets, the
  previous one weighted by how much of it still overlaps the window).
- ``Semaphores``: parallel-request slots; a slot whose holder died expires.
- ``Budgets``: USD spend per day and per month with holds: a request holds its predicted
  cost up front (refused when it does not fit), then settles to its realized cost.
- ``SharedState``: a generic key/value + counter store with expiry, for other replicated
  state (the failover circuit breaker's per-model states).

``admission`` bundles what one request needs into one call each way (``Admission`` before
it is served, ``Settlement`` as it ends): one Lua script, one round trip, against Redis.

``failsafe.Failsafe`` wraps a backend call with a short timeout and applies the
per-mechanism failure policy when Redis is down (fail open or closed, a metric, a log line).
``server`` holds the HTTP-level limits: header and body read timeouts and the
concurrency cap.
"""
