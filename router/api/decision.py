"""``POST /v1/route``: the routing decision with its full per-model table, no upstream call."""

from __future__ import annotations

import math
import uuid

from fastapi import APIRouter, Request
from pydantic import Field

from router.api.openapi import ERROR_RESPONSES
from router.engine import DecisionOutcome
from router.errors import InvalidRequestError
from router.schemas import ChatCompletionRequest, ModelRow, RouteResponse
from router.services import Services
from router.upstream.fields import check_fields

api = APIRouter(tags=["routing"])


class RouteRequest(ChatCompletionRequest):
    """Same body as chat completions; ``model`` defaults to ``auto``."""

    model: str = Field(default="auto")


def _finite(value: float) -> float:
    return float(value) if math.isfinite(value) else float("inf")


def _rows(outcome: DecisionOutcome) -> list[ModelRow]:
    decision, table, scores, estimates = (
        outcome.decision,
        outcome.table,
        outcome.scores,
        outcome.estimates,
    )
    accelerator_s = estimates.accelerator_s
    return [
        ModelRow(
            model=name,
            predicted_quality=float(table.quality[i]),
            quality_source=scores.source[i],
            predicted_cost_usd=float(table.cost_usd[i]),
            predicted_runtime_s=float(table.runtime_s[i]),
            predicted_accelerator_s=float(accelerator_s[i]),
            accelerators=int(estimates.accelerators[i]),
            runtime_source=estimates.runtime_source[i],
            predicted_completion_tokens=float(scores.completion_tokens[0, i]),
            utility=_finite(decision.utility[i]),
            on_pareto_front=bool(decision.on_front[i]),
            feasible=bool(decision.feasible[i]),
            infeasible_reason=decision.infeasible_reason[i],
        )
        for i, name in enumerate(table.models)
    ]


def _preferences(outcome: DecisionOutcome) -> dict[str, object]:
    prefs = outcome.decision.preferences
    fields = {name: getattr(prefs, name) for name in prefs.__dataclass_fields__}
    for key, value in fields.items():
        if isinstance(value, frozenset):
            fields[key] = sorted(value)
    return fields


@api.post("/v1/route", response_model=RouteResponse, responses=ERROR_RESPONSES)
async def route(request: Request, body: RouteRequest) -> RouteResponse:
    """Which model ``auto`` would pick for this request, and every model's predictions."""
    services: Services = request.app.state.services
    if services.catalog.get(body.model) is not None:
        raise InvalidRequestError(
            "/v1/route decides between models; pass 'auto' or 'auto:<profile>', "
            f"not the model name {body.model!r}",
            param="model",
        )
    check_fields(body.model_dump(exclude_unset=True), "chat", services.settings.unknown_fields)
    outcome, _, _ = await services.planner.decide(body, request.headers)
    assert outcome is not None
    return RouteResponse(
        id=f"route-{uuid.uuid4().hex}",
        model=outcome.decision.model,
        profile=outcome.profile,
        reason=outcome.decision.reason,
        fell_back=outcome.decision.fell_back,
        prompt_tokens=outcome.prompt_tokens,
        decision_ms=outcome.decision_ms,
        scorer=services.scorer.name,
        preferences=_preferences(outcome),
        models=_rows(outcome),
    )
