"""What the metrics see: reference cost, predicted vs realized, error labels, disconnects."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import numpy as np
import orjson
import pytest
from prometheus_client import CollectorRegistry, generate_latest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import StreamingResponse
from starlette.routing import Route

from predictors.prior import PriorScorer
from router.app import create_app
from router.batching import ScoreBatcher
from router.catalog import Catalog, CatalogError, parse_catalog
from router.engine import DecisionEngine
from router.errors import UpstreamError, UpstreamTimeoutError
from router.learning import OnlineLearning
from router.metrics import RouterMetrics
from router.observe import Observer, catalog_hash, error_class
from router.planning import Plan, Planner
from router.schemas import ChatCompletionRequest
from router.settings import Settings
from router.spend import SpendControl
from tests.router.conftest import catalog_document
from tests.router.fleet import samples, total
from tests.router.servers import FakeUpstreamState, live_server

MESSAGES = [{"role": "user", "content": "hello there"}]
USAGE = {"prompt_tokens": 40, "completion_tokens": 90}


def value(metrics: RouterMetrics, name: str, **labels: str) -> float:
    return total(samples(generate_latest(metrics.registry).decode()), name, **labels)


def build(reference: str | None = None) -> tuple[Planner, OnlineLearning, RouterMetrics, Catalog]:
    document = catalog_document("http://127.0.0.1:9/v1")
    if reference:
        document["reference_model"] = reference
    catalog = parse_catalog(document, "observe-catalog")
    router = DecisionEngine(catalog, PriorScorer())
    metrics = RouterMetrics(CollectorRegistry())
    spend = SpendControl(metrics)
    planner = Planner(router, 5.0, spend, ScoreBatcher(router.scorer, router.cards))
    observer = Observer(metrics, router, router.length_prior.tolist(), "test-artifact")
    return planner, OnlineLearning(router, spend, metrics, observer), metrics, catalog


async def plan_for(planner: Planner, model: str) -> Plan:
    body = ChatCompletionRequest.model_validate({"model": model, "messages": MESSAGES})
    return await planner.plan(body, {})


async def test_routed_reference_is_the_highest_predicted_quality():
    planner, feedback, metrics, _ = build()
    plan = await plan_for(planner, "auto:cheap")
    assert plan.outcome is not None
    feedback.served(plan, "chat", USAGE, 0.1)
    table = plan.outcome.table
    best = int(np.argmax(table.quality))
    assert table.models[best] != plan.model.name  # the cheap profile saved something
    reference = value(metrics, "paretoroute_reference_cost_usd_total", model=plan.model.name)
    assert reference == pytest.approx(float(table.cost_usd[best]))
    predicted = plan.outcome.scores.completion_tokens[0][plan.outcome.decision.index]
    tokens = value(metrics, "paretoroute_predicted_completion_tokens_total")
    assert tokens == pytest.approx(float(predicted))
    assert value(metrics, "paretoroute_completion_tokens_ratio_count") == 1
    ratio = value(metrics, "paretoroute_completion_tokens_ratio_sum")
    assert ratio == pytest.approx(90 / float(predicted))


async def test_named_reference_is_the_most_expensive_model():
    planner, feedback, metrics, _ = build()
    plan = await plan_for(planner, "mistralai/mistral-7b-chat")
    feedback.served(plan, "chat", USAGE, 0.1)
    router = planner.engine
    costs = [router.cost_of(i, 40, router.length_prior[i]) for i in range(3)]
    reference = value(metrics, "paretoroute_reference_cost_usd_total")
    assert reference == pytest.approx(max(costs))
    assert value(metrics, "paretoroute_predicted_completion_tokens_total") == router.length_prior[2]


async def test_catalog_reference_model_is_used_for_routed_and_named():
    planner, feedback, metrics, _ = build(reference="gpt-3.5-turbo-1106")
    routed = await plan_for(planner, "auto:best")
    named = await plan_for(planner, "mistralai/mistral-7b-chat")
    feedback.served(routed, "chat", USAGE, 0.1)
    feedback.served(named, "chat", USAGE, 0.1)
    assert routed.outcome is not None
    engine = planner.engine
    expected = float(routed.outcome.table.cost_usd[1]) + engine.cost_of(
        1, 40, engine.length_prior[1]
    )
    assert value(metrics, "paretoroute_reference_cost_usd_total") == pytest.approx(expected)


def test_reference_model_must_be_in_the_catalog():
    document = catalog_document("http://127.0.0.1:9/v1")
    document["reference_model"] = "gpt-5"
    with pytest.raises(CatalogError, match="reference_model 'gpt-5'"):
        parse_catalog(document, "bad")


def test_build_info_carries_artifact_and_a_content_hash():
    _, _, metrics, catalog = build()
    labels = {"artifact": "test-artifact", "catalog_hash": catalog_hash(catalog)}
    assert value(metrics, "paretoroute_build_info", **labels) == 1
    other = parse_catalog(
        {**catalog_document("http://127.0.0.1:9/v1"), "default_profile": "cheap"}, "x"
    )
    assert catalog_hash(other) != catalog_hash(catalog)
    again = parse_catalog(catalog_document("http://127.0.0.1:9/v1"), "elsewhere.yaml")
    assert catalog_hash(again) == catalog_hash(catalog)


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (UpstreamTimeoutError("slow", upstream_status=None), "timeout"),
        (UpstreamError("busy", upstream_status=429), "rate_limited"),
        (UpstreamError("bad", upstream_status=400), "client_error"),
        (UpstreamError("boom", upstream_status=503), "server_error"),
        (UpstreamError("refused"), "connection"),
    ],
)
def test_upstream_error_classes(error: UpstreamError, expected: str):
    assert error_class(error) == expected


def metrics_of(url: str) -> dict[Any, float]:
    return samples(httpx.get(url + "/metrics").text)


def test_errors_carry_the_model_and_413s_are_counted(
    router_url: str, upstream_state: FakeUpstreamState
):
    before = metrics_of(router_url)
    upstream_state.fail_status = 500
    chat = router_url + "/v1/chat/completions"
    response = httpx.post(chat, json={"model": "gpt-3.5-turbo-1106", "messages": MESSAGES})
    assert response.status_code == 502
    big = {"model": "auto", "messages": [{"role": "user", "content": "x" * 70_000}]}
    assert httpx.post(chat, json=big).status_code == 413
    after = metrics_of(router_url)

    def delta(name: str, **labels: str) -> float:
        return total(after, name, **labels) - total(before, name, **labels)

    model = "gpt-3.5-turbo-1106"
    assert delta("paretoroute_errors_total", status="502", model=model) == 1
    assert delta("paretoroute_upstream_errors_total", model=model, error_class="server_error") == 1
    assert delta("paretoroute_requests_total", model=model, outcome="error") == 1
    assert delta("paretoroute_errors_total", status="413", code="request_too_large") == 1
    assert delta("paretoroute_requests_total", model="", outcome="error") == 1
    assert total(after, "paretoroute_in_flight_requests") == 0


def stalling_upstream() -> Starlette:
    """Streams one chunk, then nothing for a minute."""

    async def chat(request: Request) -> StreamingResponse:
        body = orjson.loads(await request.body())
        chunk = {
            "id": "c",
            "object": "chat.completion.chunk",
            "created": 1,
            "model": body["model"],
            "choices": [{"index": 0, "delta": {"role": "assistant", "content": "Hi"}}],
        }

        async def events() -> AsyncIterator[bytes]:
            yield b"data: " + orjson.dumps(chunk) + b"\n\n"
            await asyncio.sleep(60)

        return StreamingResponse(events(), media_type="text/event-stream")

    return Starlette(routes=[Route("/v1/chat/completions", chat, methods=["POST"])])


@contextmanager
def stalling(timeout_s: float) -> Iterator[str]:
    with live_server(stalling_upstream()) as upstream:
        document = catalog_document(upstream + "/v1")
        document["upstream_timeout_s"] = timeout_s
        catalog = parse_catalog(document, "stalling")
        app = create_app(Settings(), catalog=catalog, scorer=PriorScorer())
        with live_server(app) as url:
            yield url


@pytest.fixture
def stalling_router() -> Iterator[str]:
    with stalling(timeout_s=30.0) as url:  # the caller leaves long before the timeout
        yield url


def test_a_stream_that_times_out_midway_counts_an_upstream_timeout():
    body = {"model": "gpt-3.5-turbo-1106", "messages": MESSAGES, "stream": True}
    with stalling(timeout_s=0.5) as url:
        with httpx.stream("POST", url + "/v1/chat/completions", json=body) as response:
            events = [line for line in response.iter_lines() if line]
        found = metrics_of(url)
    assert response.status_code == 200 and "upstream_timeout" in events[-2]
    model = "gpt-3.5-turbo-1106"
    assert total(found, "paretoroute_errors_total", status="504", model=model) == 1
    assert (
        total(found, "paretoroute_upstream_errors_total", model=model, error_class="timeout") == 1
    )
    assert total(found, "paretoroute_requests_total", model=model, outcome="error") == 1
    assert total(found, "paretoroute_requests_total") == 1


def test_a_caller_leaving_mid_stream_is_counted_with_its_model(stalling_router: str):
    body = {"model": "gpt-3.5-turbo-1106", "messages": MESSAGES, "stream": True}
    with httpx.stream("POST", stalling_router + "/v1/chat/completions", json=body) as response:
        lines = response.iter_lines()  # kept: dropping the iterator closes the connection
        assert next(lines).startswith("data: ")
        busy = metrics_of(stalling_router)
        assert total(busy, "paretoroute_in_flight_requests") == 1
    deadline = time.monotonic() + 10
    labels = {"model": "gpt-3.5-turbo-1106", "outcome": "client_disconnected"}
    while time.monotonic() < deadline:
        found = metrics_of(stalling_router)
        if total(found, "paretoroute_requests_total", **labels) == 1:
            break
        time.sleep(0.1)
    assert total(found, "paretoroute_requests_total", **labels) == 1
    assert total(found, "paretoroute_errors_total", status="499", model=labels["model"]) == 1
    assert total(found, "paretoroute_time_to_first_token_seconds_count") == 1
    assert total(found, "paretoroute_in_flight_requests") == 0


def test_a_request_queued_behind_a_finished_stream_is_scored_inline(router_url: str):
    """Pipelined requests: uvicorn starts the next one as soon as a stream's last byte is
    sent, while that stream's tasks still wind down. A served request no longer counts as
    in flight, so the next is scored inline (queue wait exactly 0), not on the thread."""
    body = orjson.dumps({"model": "auto", "messages": MESSAGES, "stream": True})
    request = b"POST /v1/chat/completions HTTP/1.1\r\nhost: t\r\ncontent-type: application/json\r\n"
    request += b"content-length: %d\r\n\r\n%s" % (len(body), body)
    before = metrics_of(router_url)
    host, port = router_url.removeprefix("http://").split(":")
    received = b""
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(request * 6)
        while received.count(b"data: [DONE]") < 6:
            chunk = sock.recv(65536)
            assert chunk, received[-300:]
            received += chunk
    after = metrics_of(router_url)
    assert received.count(b"HTTP/1.1 200 OK") == 6

    def delta(name: str) -> float:
        return total(after, name) - total(before, name)

    assert delta("paretoroute_decision_queue_seconds_count") == 6
    assert delta("paretoroute_decision_queue_seconds_sum") == 0.0
    assert total(after, "paretoroute_in_flight_requests") == 0
