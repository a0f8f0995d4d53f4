"""The app factory. The request path, end to end::

POST /v1/chat/completions
  → ConcurrencyLimit (503), BodyReadTimeout (408)        router.limits.server
  → BodySizeLimit (413)                                  router.edge
  → CallerGuard: key (401), limits (429), models (403)   router.auth
  → ChatCompletionRequest validation (400)               router.schemas
  → request hygiene: only OpenAI fields go upstream     router.upstream.fields
  → Planner.plan: model field → profile + layers          router.selection
      → policies.merge(profile, headers, body)           policies.preferences
      → DecisionEngine.decide:                            router.engine
          Scorer.score (quality, length; batched)        predictors
          estimate cost + runtime, decide (ranking)      policies
  → Failover: retries, fallback along the ranking,
      circuit breakers, per-model timeouts               router.resilience
  → budget hold for the predicted cost (429)             router.auth
  → Upstream.complete / stream                           router.upstream
  → response with model rewritten + x-paretoroute-*     router.api.generation
  → one row in the request log (queued, written off-path) router.requestlog
POST /v1/feedback → stored against the logged request    router.api.feedback
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from predictors.base import Scorer
from predictors.scorer import configure_threads
from router.api import decision, feedback, generation, meta
from router.api.fast_routes import add_fast_routes
from router.auth import admin
from router.auth.guard import CallerGuard
from router.catalog import Catalog
from router.edge import BodySizeLimit, UnhandledErrors, install_error_handlers
from router.limits.server import BodyReadTimeout, ConcurrencyLimit
from router.loop_health import freeze_startup_heap
from router.observe import ObserveRequests
from router.requestlog.capture import RequestLogMiddleware
from router.services import Services, build_services
from router.settings import Settings
from router.upstream.base import Upstream


def _drop_422(app: FastAPI) -> None:
    """FastAPI documents 422 for validation errors; this server answers 400 instead."""
    original = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = original()
        for path in schema.get("paths", {}).values():
            for operation in path.values():
                operation.get("responses", {}).pop("422", None)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def create_app(
    settings: Settings | None = None,
    *,
    upstream: Upstream | None = None,
    scorer: Scorer | None = None,
    catalog: Catalog | None = None,
    registry: CollectorRegistry | None = None,
) -> FastAPI:
    """A new, independent app. Injected collaborators replace the ones built from settings."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_threads(settings.compute_threads)
        services: Services = build_services(
            settings, catalog=catalog, scorer=scorer, upstream=upstream, registry=registry
        )
        app.state.services = services
        freeze_startup_heap()
        services.lag_monitor.start()
        if services.request_log is not None:
            services.request_log.start()
        try:
            yield
        finally:
            if services.request_log is not None:  # writes what is still queued
                await asyncio.to_thread(services.request_log.close)
            await services.lag_monitor.stop()
            services.planner.batcher.close()
            services.learning.close()
            await services.upstream.aclose()
            await services.callers.aclose()
            await services.failover.breakers.aclose()
            services.metrics.close()

    app = FastAPI(
        title="paretoroute",
        version="0.1.0",
        summary="Cost-aware LLM router with an OpenAI-compatible API",
        lifespan=lifespan,
    )
    app.add_middleware(CallerGuard)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(BodyReadTimeout, timeout_s=settings.body_timeout_s)
    app.add_middleware(ConcurrencyLimit, max_requests=settings.max_concurrent_requests)
    app.add_middleware(ObserveRequests)  # outer: sees the 413s, 408s and 503s too
    app.add_middleware(RequestLogMiddleware)  # logs every request, rejections included
    app.add_middleware(UnhandledErrors)  # outermost: a 500 is answered, the connection kept
    install_error_handlers(app)
    app.include_router(generation.api)
    app.include_router(decision.api)
    app.include_router(meta.api)
    app.include_router(feedback.api)
    app.include_router(admin.api)
    add_fast_routes(app)  # ahead of the API's routes; FastAPI's stay for docs and errors
    _drop_422(app)
    return app
