"""Which ``BreakerStore`` a process uses: its own, or Redis's shared one with its own
behind it for outages (``fallback_breaker``), whenever ``redis_url`` is set."""

from __future__ import annotations

from router.metrics import RouterMetrics
from router.resilience.breaker import (
    BreakerConfig,
    BreakerStore,
    CircuitState,
    InProcessBreakerStore,
)
from router.settings import Settings

#: The gauge's value per state (higher is worse, so the worst worker shows).
GAUGE_VALUES = {CircuitState.CLOSED: 0.0, CircuitState.HALF_OPEN: 1.0, CircuitState.OPEN: 2.0}
#: The ``paretoroute_state_backend_errors_total`` label of breaker calls answered locally.
MECHANISM = "breaker"


def build_breakers(
    settings: Settings, config: BreakerConfig, metrics: RouterMetrics
) -> BreakerStore:
    """In-process breakers, or shared ones when ``settings.redis_url`` is set; either way
    each state a call sees goes to ``paretoroute_circuit_state{model}``."""

    def observe(model: str, state: CircuitState) -> None:
        metrics.circuit_state.labels(model).set(GAUGE_VALUES[state])

    if settings.redis_url is None:
        return InProcessBreakerStore(config, observe=observe)
    from router.limits.resp import REDIS_ERRORS, RespClient
    from router.resilience.fallback_breaker import FallbackBreakerStore
    from router.resilience.near_cache import NearCacheBreakerStore
    from router.resilience.redis_breaker import RedisBreakerStore

    def observe_shared(model: str, state: CircuitState) -> None:
        # Every answer, Redis's or (in an outage) this process's own, updates the cache.
        observe(model, state)
        cached.saw(model, state)

    local = InProcessBreakerStore(config, observe=observe_shared)

    client = RespClient(
        settings.redis_url.get_secret_value(), connect_timeout_s=settings.redis_timeout_s
    )
    fallback = FallbackBreakerStore(
        RedisBreakerStore(client, config, observe=observe_shared),
        local,
        timeout_s=settings.redis_timeout_s,
        retry_s=settings.redis_retry_s,
        errors=REDIS_ERRORS,
        on_error=metrics.state_errors.labels(MECHANISM).inc,
    )
    cached = NearCacheBreakerStore(fallback, settings.resilience.breaker_refresh_s)
    return cached
