"""The collaborators one app instance runs with, built in its lifespan.

Anything passed to ``create_app`` (an upstream, a scorer, a catalog) is used as-is;
everything else is built from ``Settings`` here. No module-level state.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

import httpx
from prometheus_client import CollectorRegistry

from predictors.base import Scorer
from predictors.prior import PriorScorer
from predictors.tokens import count_tokens
from router.batching import ScoreBatcher
from router.catalog import BUILTIN_REPLAY, Catalog, load_catalog
from router.feedback import Feedback
from router.metrics import RouterMetrics
from router.planning import Planner
from router.resilience.breaker import BreakerConfig, InProcessBreakerStore
from router.resilience.failover import Failover
from router.routing import ModelRouter
from router.settings import Settings
from router.spend import SpendControl
from router.upstream.aiohttp_upstream import AiohttpUpstream
from router.upstream.base import Upstream
from router.upstream.dispatch import DispatchingUpstream
from router.upstream.in_process import HttpxUpstream
from router.upstream.limits import ResponseLimits

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Services:
    """What request handlers reach through ``request.app.state.services``."""

    settings: Settings
    catalog: Catalog
    scorer: Scorer
    upstream: Upstream
    planner: Planner
    metrics: RouterMetrics
    feedback: Feedback
    failover: Failover


def build_scorer(settings: Settings) -> Scorer:
    """``prior`` → mean-quality prior; a path → that artifact; unset → the shipped one."""
    if settings.artifact == "prior":
        return PriorScorer()
    from predictors.artifact import load_scorer

    path = Path(settings.artifact) if settings.artifact else None
    return load_scorer(path)


def build_upstream(limits: ResponseLimits | None = None) -> Upstream:
    """In-process replay server, direct aiohttp forwarding, litellm for the rest."""
    from router.replay.app import create_replay_app
    from router.replay.data import ReplayDataset
    from router.upstream.litellm_upstream import LiteLLMUpstream

    replay = create_replay_app(ReplayDataset.load())
    replay_client = httpx.AsyncClient(transport=httpx.ASGITransport(app=replay), timeout=None)
    in_process = {BUILTIN_REPLAY: HttpxUpstream(replay_client, limits)}
    return DispatchingUpstream(AiohttpUpstream(limits=limits), LiteLLMUpstream, in_process)


def build_failover(
    settings: Settings, catalog: Catalog, upstream: Upstream, metrics: RouterMetrics, timeout: float
) -> Failover:
    """Retries, fallback and one in-process circuit breaker per model."""
    config = settings.resilience
    breakers = InProcessBreakerStore(
        BreakerConfig(
            window_s=config.breaker_window_s,
            min_calls=config.breaker_min_calls,
            failure_rate=config.breaker_failure_rate,
            cooldown_s=config.breaker_cooldown_s,
            half_open_probes=config.breaker_half_open_probes,
        )
    )
    return Failover(upstream, catalog, breakers, config, metrics, timeout_s=timeout)


def build_services(
    settings: Settings,
    *,
    catalog: Catalog | None = None,
    scorer: Scorer | None = None,
    upstream: Upstream | None = None,
    registry: CollectorRegistry | None = None,
) -> Services:
    """Everything a request needs, from settings plus whatever was injected."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    catalog = catalog or load_catalog(settings.catalog)
    count_tokens("load the encoding now, not on the first request")
    scorer = scorer or build_scorer(settings)
    router = ModelRouter(catalog, scorer)
    if settings.runtime_records is not None:
        from predictors.records import load_records

        used = router.seed_runtime(load_records(settings.runtime_records))
        logger.info("runtime fits seeded from %d records with latency", used)
    prior = PriorScorer().score([""], router.cards).completion_tokens[0]
    timeout = settings.upstream_timeout_s or catalog.upstream_timeout_s
    metrics = RouterMetrics(registry)
    spend = SpendControl(metrics)
    limits = ResponseLimits(
        settings.resilience.max_response_bytes, settings.resilience.max_sse_line_bytes
    )
    upstream = upstream or build_upstream(limits)
    return Services(
        settings=settings,
        catalog=catalog,
        scorer=scorer,
        upstream=upstream,
        planner=Planner(router, prior.tolist(), timeout, spend, ScoreBatcher(scorer, router.cards)),
        metrics=metrics,
        feedback=Feedback(router, spend, metrics),
        failover=build_failover(settings, catalog, upstream, metrics, timeout),
    )
