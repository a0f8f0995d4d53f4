"""Resilience on the request path: timeouts, retries, fallback along the ranking, breakers.

``failover.Failover`` is what ``router.api.generation`` calls instead of the upstream
directly; ``breaker`` keeps one circuit per model behind the ``BreakerStore`` protocol
(in-process; ``redis_breaker`` shares it across replicas, ``fallback_breaker`` covers
Redis outages, ``shared_breakers`` picks one);
``ranking`` is the one place the fallback order comes from; ``retry`` says which
failures are retried, which fall back and how long to wait.
"""
