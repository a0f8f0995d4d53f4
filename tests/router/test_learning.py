"""After each served request: metrics, runtime refits from live latency, spend control."""

from __future__ import annotations

import httpx
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families

from predictors.prior import PriorScorer
from router.batching import ScoreBatcher
from router.catalog import Catalog, parse_catalog
from router.engine import DecisionEngine
from router.learning import OnlineLearning
from router.metrics import RouterMetrics
from router.planning import Planner
from router.schemas import ChatCompletionRequest
from router.spend import SpendControl
from tests.router.conftest import catalog_document

MESSAGES = [{"role": "user", "content": "hello there"}]


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def test_metrics_count_requests_errors_and_cost(router_url: str):
    before = samples(httpx.get(router_url + "/metrics").text)
    httpx.post(router_url + "/v1/chat/completions", json={"model": "auto", "messages": MESSAGES})
    httpx.post(router_url + "/v1/chat/completions", json={"model": "nope", "messages": MESSAGES})
    after = samples(httpx.get(router_url + "/metrics").text)
    labels = (
        ("endpoint", "chat"),
        ("model", "gpt-4-1106-preview"),
        ("outcome", "ok"),
        ("profile", "best"),
    )
    key = ("paretoroute_requests_total", labels)
    assert after[key] == before.get(key, 0) + 1
    error_key = (
        "paretoroute_errors_total",
        (("code", "model_not_found"), ("model", ""), ("status", "404")),
    )
    assert after[error_key] == before.get(error_key, 0) + 1
    cost_key = ("paretoroute_cost_usd_total", (("model", "gpt-4-1106-preview"),))
    # the fake upstream reports 5 prompt + 6 completion tokens at 1e-5 / 3e-5 USD
    assert after[cost_key] - before.get(cost_key, 0) == 5 * 1e-5 + 6 * 3e-5


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def spend_catalog() -> Catalog:
    document = catalog_document("http://127.0.0.1:9/v1")
    document["profiles"]["budget"] = {"cost_weight": 1.0, "target_spend_usd_per_hour": 0.01}
    return parse_catalog(document, "spend-catalog")


def build(clock: FakeClock) -> tuple[Planner, OnlineLearning, RouterMetrics]:
    catalog = spend_catalog()
    router = DecisionEngine(catalog, PriorScorer())
    metrics = RouterMetrics(CollectorRegistry())
    spend = SpendControl(metrics, clock=clock)
    batcher = ScoreBatcher(router.scorer, router.cards)
    planner = Planner(router, 5.0, spend, batcher)
    return planner, OnlineLearning(router, spend, metrics), metrics


async def test_overspending_profile_raises_cost_weight_and_moves_to_cheaper_models():
    clock = FakeClock()
    planner, learning, metrics = build(clock)
    body = ChatCompletionRequest.model_validate({"model": "auto:budget", "messages": MESSAGES})
    first = await planner.plan(body, {})
    assert first.model.name == "gpt-4-1106-preview"  # cost_weight 1 barely matters at first
    chosen = []
    for _ in range(3600):  # an hour, one request per second, each with a large usage
        clock.now += 1.0
        plan = await planner.plan(body, {})
        chosen.append(plan.model.name)
        learning.served(plan, "chat", {"prompt_tokens": 500, "completion_tokens": 500}, 0.5)
    weight = metrics.cost_weight.labels("budget")._value.get()
    assert weight > 100.0
    assert chosen[-1] != "gpt-4-1106-preview"
    assert metrics.spend_target.labels("budget")._value.get() == 0.01


async def test_live_latency_refits_runtime():
    clock = FakeClock()
    planner, learning, _ = build(clock)
    router = planner.engine
    assert router.runtime.params("gpt-3.5-turbo-1106").source != "fitted"
    body = ChatCompletionRequest.model_validate(
        {"model": "gpt-3.5-turbo-1106", "messages": MESSAGES}
    )
    plan = await planner.plan(body, {})
    for i in range(64):  # latency = 0.2 s + 0.01 s per output token
        completion = 10 + 5 * i
        usage = {"prompt_tokens": 20 + (37 * i) % 50, "completion_tokens": completion}
        learning.served(plan, "chat", usage, 0.2 + 0.01 * (completion - 1))
    learning.close()  # the fits run on their own thread: wait for them
    fitted = router.runtime.params("gpt-3.5-turbo-1106")
    assert fitted.source == "fitted"
    assert abs(fitted.runtime(20, 101) - 1.2) < 0.05
