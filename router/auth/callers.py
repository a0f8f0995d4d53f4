"""The caller side of one app: who may call (``Authenticator``), what they may use
(``CallerLimits``), where keys live (``KeyStore``); built from settings in the lifespan."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from router.auth.authenticate import Authenticator
from router.auth.context import RequestAccount, current_account
from router.auth.enforce import CallerLimits
from router.auth.store import KeyStore, database_url
from router.limits.failsafe import MECHANISMS, Failsafe
from router.limits.memory import MemoryBackend
from router.limits.protocols import StateBackend
from router.metrics import RouterMetrics
from router.settings import Settings

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Callers:
    """What the guard and the admin API use."""

    authenticator: Authenticator
    limits: CallerLimits
    backend: StateBackend
    store: KeyStore | None

    async def reserve(self, predicted_cost_usd: float) -> None:
        """Hold the current request's predicted cost against its key's budget."""
        account: RequestAccount | None = current_account()
        if account is not None:
            await self.limits.reserve(account, predicted_cost_usd)

    async def aclose(self) -> None:
        """Finish the settlements in flight, close the backend and the key database."""
        await self.limits.drain()
        await self.backend.aclose()
        if self.store is not None:
            self.store.close()


def _backend(settings: Settings, metrics: RouterMetrics) -> tuple[StateBackend, Failsafe | None]:
    if settings.redis_url is None:
        return MemoryBackend(), None
    from router.limits.redis_store import RedisBackend
    from router.limits.resp import REDIS_ERRORS

    backend = RedisBackend(settings.redis_url.get_secret_value(), settings.redis_timeout_s)
    policies = {
        "rate": settings.redis_fail_rate,
        "parallel": settings.redis_fail_parallel,
        "budget": settings.redis_fail_budget,
    }
    failsafe = Failsafe(
        {m: policies.get(m, "open") for m in MECHANISMS},
        timeout_s=settings.redis_timeout_s,
        retry_s=settings.redis_retry_s,
        errors=REDIS_ERRORS,
        on_error=lambda mechanism: metrics.state_errors.labels(mechanism).inc(),
    )
    return backend, failsafe


def build_callers(settings: Settings, metrics: RouterMetrics) -> Callers:
    """Auth on iff ``master_key`` is set; Redis iff ``redis_url`` is set."""
    master = settings.master_key.get_secret_value() if settings.master_key else None
    store = None
    if master is not None:
        store = KeyStore(database_url(settings.data_dir, settings.database_url))
    backend, failsafe = _backend(settings, metrics)
    logger.info(
        "callers: auth %s, shared state %s",
        "on" if master else "off (no PARETOROUTE_MASTER_KEY)",
        type(backend).__name__,
    )
    limits = CallerLimits(
        backend,
        failsafe,
        metrics,
        global_rpm=settings.global_rpm,
        slot_ttl_s=settings.parallel_slot_ttl_s,
    )
    return Callers(
        authenticator=Authenticator(master, store, metrics, settings.key_cache_s),
        limits=limits,
        backend=backend,
        store=store,
    )
