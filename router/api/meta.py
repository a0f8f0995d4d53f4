"""``GET /v1/models``, ``GET /healthz`` and ``GET /readyz``."""

from __future__ import annotations

import time

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel

from router.schemas import ModelEntry, ModelList
from router.services import Services

api = APIRouter(tags=["meta"])
_STARTED = int(time.time())


class Health(BaseModel):
    """Liveness or readiness."""

    status: str
    catalog: str | None = None
    models: int | None = None
    scorer: str | None = None
    #: Per catalog model, where its quality comes from: ``learned`` (per prompt),
    #: ``shrunk`` or ``metadata-prior`` (the same figure for every prompt).
    quality_sources: dict[str, str] | None = None
    detail: str | None = None


@api.get("/v1/models", response_model=ModelList)
async def list_models(request: Request) -> ModelList:
    """Catalog models and the ``auto`` profiles, in OpenAI's list format."""
    services: Services = request.app.state.services
    catalog = services.catalog
    cards = [ModelEntry(id="auto", created=_STARTED, owned_by="paretoroute")]
    cards += [
        ModelEntry(id=f"auto:{name}", created=_STARTED, owned_by="paretoroute")
        for name in catalog.profiles
    ]
    cards += [
        ModelEntry(
            id=m.name,
            created=_STARTED,
            owned_by=m.config.litellm_model.split("/", 1)[0]
            if "/" in m.config.litellm_model
            else m.config.provider,
        )
        for m in catalog.models
    ]
    return ModelList(data=cards)


@api.get(
    "/metrics",
    response_class=PlainTextResponse,
    responses={200: {"content": {CONTENT_TYPE_LATEST: {}}}},
)
async def metrics(request: Request) -> PlainTextResponse:
    """Prometheus exposition of this app's registry (summed over workers when several)."""
    services: Services = request.app.state.services
    body = generate_latest(services.metrics.exposition_registry())
    return PlainTextResponse(body, media_type=CONTENT_TYPE_LATEST)


@api.get("/healthz", response_model=Health)
async def healthz() -> Health:
    """The process is alive."""
    return Health(status="ok")


@api.get("/readyz", response_model=Health, responses={503: {"model": Health}})
async def readyz(request: Request) -> Health | JSONResponse:
    """The catalog is valid and the predictors are loaded."""
    services: Services | None = getattr(request.app.state, "services", None)
    if services is None:
        body = Health(status="starting", detail="catalog and predictors not loaded yet")
        return JSONResponse(body.model_dump(), status_code=503)
    return Health(
        status="ready",
        catalog=services.catalog.source,
        models=len(services.catalog.models),
        scorer=services.scorer.name,
        quality_sources=services.planner.engine.quality_sources(),
    )
