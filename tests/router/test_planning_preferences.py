"""The planner's remembered per-profile preferences equal a fresh merge, and never apply
when the request or its headers set preferences of their own."""

from __future__ import annotations

from prometheus_client import CollectorRegistry

from predictors.prior import PriorScorer
from router.batching import ScoreBatcher
from router.catalog import parse_catalog
from router.engine import DecisionEngine
from router.metrics import RouterMetrics
from router.planning import Planner
from router.schemas import ChatCompletionRequest
from router.selection import build_preferences, header_preferences, resolve_model_field
from router.spend import SpendControl
from tests.router.conftest import catalog_document

MESSAGES = [{"role": "user", "content": "hello there"}]


def _planner() -> Planner:
    engine = DecisionEngine(
        parse_catalog(catalog_document("http://127.0.0.1:9/v1"), "t"), PriorScorer()
    )
    spend = SpendControl(RouterMetrics(CollectorRegistry()))
    return Planner(engine, 5.0, spend, ScoreBatcher(engine.scorer, engine.cards))


def _body(model: str, **extra: object) -> ChatCompletionRequest:
    return ChatCompletionRequest.model_validate({"model": model, "messages": MESSAGES, **extra})


def test_remembered_preferences_equal_a_fresh_merge() -> None:
    planner = _planner()
    for model in ("auto", *(f"auto:{name}" for name in planner.catalog.profiles)):
        choice = resolve_model_field(model, planner.catalog)
        first = planner._preferences(choice, _body(model), {})
        assert planner._preferences(choice, _body(model), {}) is first  # remembered
        assert first == build_preferences(choice, planner.catalog, None, None)


def test_a_request_with_its_own_preferences_is_merged_afresh() -> None:
    planner = _planner()
    choice = resolve_model_field("auto", planner.catalog)
    plain = planner._preferences(choice, _body("auto"), {})
    headers = {"x-paretoroute-cost-weight": "0.9"}
    from_headers = planner._preferences(choice, _body("auto"), headers)
    expected = build_preferences(choice, planner.catalog, header_preferences(headers), None)
    assert from_headers == expected and from_headers[1].cost_weight == 0.9
    body = _body("auto", router={"max_cost_usd": 0.5})
    from_body = planner._preferences(choice, body, {})
    assert from_body == build_preferences(choice, planner.catalog, None, body.router)
    assert from_body[1].max_cost_usd == 0.5
    assert planner._preferences(choice, _body("auto"), {}) is plain  # untouched by either
