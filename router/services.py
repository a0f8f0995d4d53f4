"""The collaborators one app instance runs with, built in its lifespan.

Anything passed to ``create_app`` (an upstream, a scorer, a catalog) is used as-is;
everything else is built from ``Settings`` here. No module-level state.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import httpx
from prometheus_client import CollectorRegistry

from predictors.base import Scorer
from predictors.tokens import count_tokens
from router.auth.callers import Callers, build_callers
from router.batching import InFlight, ScoreBatcher
from router.catalog import BUILTIN_REPLAY, Catalog, load_catalog
from router.engine import DecisionEngine
from router.learning import OnlineLearning
from router.loop_health import LoopHealthMetrics, LoopLagMonitor
from router.metrics import RouterMetrics
from router.observe import Observer
from router.planning import Planner
from router.requestlog import RequestLog, build_request_log
from router.resilience.breaker import BreakerConfig
from router.resilience.failover import Failover
from router.resilience.shared_breakers import build_breakers
from router.settings import Settings
from router.spend import SpendControl
from router.upstream.base import Upstream
from router.upstream.dispatch import DispatchingUpstream
from router.upstream.http1_upstream import Http1Upstream
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
    lag_monitor: LoopLagMonitor
    learning: OnlineLearning
    request_log: RequestLog | None
    failover: Failover
    callers: Callers
    #: Generation requests being served now (``router.observe`` counts them; the batcher
    #: scores the only one inline).
    in_flight: InFlight


def build_scorer(settings: Settings) -> Scorer:
    """The scorer ``settings.scorer`` names (``predictors.registry``): the artifact at
    ``settings.artifact`` (default: the shipped one) or the prompt-independent prior."""
    from predictors.registry import build_scorer as scorer_of_kind

    return scorer_of_kind(settings.scorer, settings.artifact)


def _warn_if_blind(engine: DecisionEngine) -> None:
    """Say so at start when ``auto`` cannot tell prompts apart for some models."""
    blind = [name for name, src in engine.quality_sources().items() if src != "learned"]
    if blind:
        logger.warning(
            "no learned predictor for %d of %d catalog models (%s): their quality is a "
            "metadata prior, the same for every prompt; train on your own eval data "
            "(paretoroute train) to route them per prompt",
            len(blind),
            len(engine.catalog.models),
            ", ".join(blind[:5]) + (", ..." if len(blind) > 5 else ""),
        )


def build_upstream(limits: ResponseLimits | None = None) -> Upstream:
    """In-process replay server, direct forwarding (plain HTTP on the router's own pooled
    client, https over aiohttp), litellm for the providers that need translation."""
    from router.replay.app import create_replay_app
    from router.replay.data import ReplayDataset
    from router.upstream.litellm_upstream import LiteLLMUpstream

    replay = create_replay_app(ReplayDataset.load())
    replay_client = httpx.AsyncClient(transport=httpx.ASGITransport(app=replay), timeout=None)
    in_process = {BUILTIN_REPLAY: HttpxUpstream(replay_client, limits)}
    return DispatchingUpstream(Http1Upstream(limits=limits), LiteLLMUpstream, in_process)


def build_failover(
    settings: Settings, catalog: Catalog, upstream: Upstream, metrics: RouterMetrics, timeout: float
) -> Failover:
    """Retries, fallback and a circuit breaker per model (shared through Redis when
    ``redis_url`` is set, router.resilience.shared_breakers)."""
    config = settings.resilience
    breakers = build_breakers(
        settings,
        BreakerConfig(
            window_s=config.breaker_window_s,
            min_calls=config.breaker_min_calls,
            failure_rate=config.breaker_failure_rate,
            cooldown_s=config.breaker_cooldown_s,
            half_open_probes=config.breaker_half_open_probes,
        ),
        metrics,
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
    catalog = catalog or load_catalog(settings.catalog)
    count_tokens("load the encoding now, not on the first request")
    scorer = scorer or build_scorer(settings)
    engine = DecisionEngine(catalog, scorer)
    _warn_if_blind(engine)
    if settings.runtime_records is not None:
        from predictors.records import load_records

        used = engine.seed_runtime(load_records(settings.runtime_records))
        logger.info("runtime fits seeded from %d records with latency", used)
    timeout = settings.upstream_timeout_s or catalog.upstream_timeout_s
    metrics = RouterMetrics(registry)
    loop_health = LoopHealthMetrics(metrics.registry)
    in_flight = InFlight()
    batcher = ScoreBatcher(
        scorer,
        engine.cards,
        observe=loop_health.observe_batch,
        inline_when_idle=settings.score_inline_when_idle,
        in_flight=in_flight,
    )
    spend = SpendControl(
        metrics, catalog_targets=catalog_spend_targets(catalog), workers=settings.workers
    )
    observer = Observer(metrics, engine, engine.length_prior.tolist(), scorer.name)
    limits = ResponseLimits(
        settings.resilience.max_response_bytes, settings.resilience.max_sse_line_bytes
    )
    upstream = upstream or build_upstream(limits)
    return Services(
        settings=settings,
        catalog=catalog,
        scorer=scorer,
        upstream=upstream,
        planner=Planner(engine, timeout, spend, batcher),
        metrics=metrics,
        lag_monitor=LoopLagMonitor(loop_health),
        learning=OnlineLearning(engine, spend, metrics, observer),
        request_log=build_request_log(settings, metrics.registry, engine, scorer.name),
        failover=build_failover(settings, catalog, upstream, metrics, timeout),
        callers=build_callers(settings, metrics),
        in_flight=in_flight,
    )


def catalog_spend_targets(catalog: Catalog) -> dict[str, float]:
    """Profiles whose catalog entry sets ``target_spend_usd_per_hour``."""
    targets = {
        name: profile.explicit().get("target_spend_usd_per_hour")
        for name, profile in catalog.profiles.items()
    }
    return {name: float(target) for name, target in targets.items() if target is not None}
