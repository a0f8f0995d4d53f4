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
from router.auth.callers import Callers, build_callers
from router.batching import ScoreBatcher
from router.catalog import BUILTIN_REPLAY, Catalog, load_catalog
from router.feedback import Feedback
from router.metrics import RouterMetrics
from router.planning import Planner
from router.routing import ModelRouter
from router.settings import Settings
from router.spend import SpendControl
from router.upstream.aiohttp_upstream import AiohttpUpstream
from router.upstream.base import Upstream
from router.upstream.dispatch import DispatchingUpstream
from router.upstream.in_process import HttpxUpstream

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
    callers: Callers


def build_scorer(settings: Settings) -> Scorer:
    """``prior`` → mean-quality prior; a path → that artifact; unset → the shipped one."""
    if settings.artifact == "prior":
        return PriorScorer()
    from predictors.artifact import load_scorer

    path = Path(settings.artifact) if settings.artifact else None
    return load_scorer(path)


def build_upstream() -> Upstream:
    """In-process replay server, direct aiohttp forwarding, litellm for the rest."""
    from router.replay.app import create_replay_app
    from router.replay.data import ReplayDataset
    from router.upstream.litellm_upstream import LiteLLMUpstream

    replay = create_replay_app(ReplayDataset.load())
    replay_client = httpx.AsyncClient(transport=httpx.ASGITransport(app=replay), timeout=None)
    in_process = {BUILTIN_REPLAY: HttpxUpstream(replay_client)}
    return DispatchingUpstream(AiohttpUpstream(), LiteLLMUpstream, in_process)


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
    spend = SpendControl(metrics, catalog_targets=catalog_spend_targets(catalog))
    return Services(
        settings=settings,
        catalog=catalog,
        scorer=scorer,
        upstream=upstream or build_upstream(),
        planner=Planner(router, prior.tolist(), timeout, spend, ScoreBatcher(scorer, router.cards)),
        metrics=metrics,
        feedback=Feedback(router, spend, metrics),
        callers=build_callers(settings, metrics),
    )


def catalog_spend_targets(catalog: Catalog) -> dict[str, float]:
    """Profiles whose catalog entry sets ``target_spend_usd_per_hour``."""
    return {
        name: profile.target_spend_usd_per_hour
        for name, profile in catalog.profiles.items()
        if profile.target_spend_usd_per_hour is not None
    }
