"""Every kind of bad input gets an OpenAI-shaped error with the right status, never a trace."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import openai
import pytest

from predictors.prior import PriorScorer
from router.app import create_app
from router.catalog import parse_catalog
from router.settings import Settings
from tests.router.conftest import catalog_document
from tests.router.servers import FakeUpstreamState, live_server

MESSAGES = [{"role": "user", "content": "hello"}]


def error_of(response: httpx.Response, status: int) -> dict[str, object]:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}
    error = body["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert error["message"] and "Traceback" not in error["message"]
    return error


def post(url: str, body: object = None, **kwargs: object) -> httpx.Response:
    return httpx.post(url + "/v1/chat/completions", json=body, **kwargs)  # type: ignore[arg-type]


def test_malformed_json(router_url: str):
    response = httpx.post(
        router_url + "/v1/chat/completions",
        content=b'{"model": "auto", "messages": [',
        headers={"content-type": "application/json"},
    )
    error = error_of(response, 400)
    assert error["type"] == "invalid_request_error" and error["code"] == "invalid_json"


def test_missing_messages(router_url: str):
    error = error_of(post(router_url, {"model": "auto"}), 400)
    assert error["param"] == "messages"
    assert "Missing required parameter" in str(error["message"])


def test_wrong_field_types(router_url: str):
    error = error_of(post(router_url, {"messages": MESSAGES, "temperature": "hot"}), 400)
    assert error["param"] == "temperature"
    error = error_of(post(router_url, {"messages": [{"role": "wizard", "content": "x"}]}), 400)
    assert error["param"] == "messages[0].role"


def test_empty_messages(router_url: str):
    error = error_of(post(router_url, {"model": "auto", "messages": []}), 400)
    assert error["param"] == "messages"


def test_unknown_model(router_url: str):
    error = error_of(post(router_url, {"model": "gpt-9", "messages": MESSAGES}), 404)
    assert error["code"] == "model_not_found" and error["param"] == "model"
    assert "auto:cheap" in str(error["message"])


def test_unknown_profile(router_url: str):
    error = error_of(post(router_url, {"model": "auto:nope", "messages": MESSAGES}), 404)
    assert error["param"] == "model"


def test_unknown_preference_field_in_body(router_url: str):
    body = {"messages": MESSAGES, "router": {"cost_wieght": 3}}
    error = error_of(post(router_url, body), 400)
    assert error["param"] == "router.cost_wieght"
    assert "Unrecognized" in str(error["message"])


def test_unknown_and_invalid_preference_headers(router_url: str):
    body = {"messages": MESSAGES}
    error = error_of(post(router_url, body, headers={"x-paretoroute-colour": "red"}), 400)
    assert error["param"] == "x-paretoroute-colour"
    error = error_of(post(router_url, body, headers={"x-paretoroute-cost-weight": "-1"}), 400)
    assert error["param"] == "x-paretoroute-cost-weight"


@pytest.mark.parametrize(
    ("router", "param"),
    [
        ({"cost_weight": float("inf")}, "router.cost_weight"),
        ({"latency_weight": float("nan")}, "router.latency_weight"),
        ({"willingness_to_pay": 5e-324}, "router"),
        ({"willingness_to_pay": float("inf")}, "router.willingness_to_pay"),
        ({"max_cost_usd": 1e309}, "router.max_cost_usd"),
    ],
)
def test_non_finite_and_degenerate_preferences_are_400(router_url: str, router, param):
    # Python's json writes Infinity/NaN literals, which the server's parser accepts.
    content = json.dumps({"messages": MESSAGES, "router": router})
    response = httpx.post(
        router_url + "/v1/chat/completions",
        content=content,
        headers={"content-type": "application/json"},
    )
    error = error_of(response, 400)
    assert error["param"] == param


@pytest.mark.parametrize("value", ["inf", "-inf", "nan", "Infinity", "1e999"])
def test_non_finite_preference_headers_are_400(router_url: str, value: str):
    headers = {"x-paretoroute-cost-weight": value}
    error = error_of(post(router_url, {"messages": MESSAGES}, headers=headers), 400)
    assert error["param"] == "x-paretoroute-cost-weight"


def test_huge_cost_weight_with_a_spend_target_is_served(router_url: str):
    body = {
        "messages": MESSAGES,
        "router": {"cost_weight": 1e300, "target_spend_usd_per_hour": 5.0},
    }
    response = post(router_url, body)
    assert response.status_code == 200, response.text


def test_echoed_response_headers_are_not_preferences(router_url: str):
    headers = {"x-paretoroute-request-id": "pr-123", "x-paretoroute-model": "x"}
    response = post(router_url, {"messages": MESSAGES}, headers=headers)
    assert response.status_code == 200, response.text


def test_unknown_model_in_allowed_models(router_url: str):
    body = {"messages": MESSAGES, "router": {"allowed_models": ["nope"]}}
    error = error_of(post(router_url, body), 400)
    assert error["param"] == "router.allowed_models"


def test_body_over_limit_is_413(router_url: str):
    big = [{"role": "user", "content": "x" * (70 * 1024)}]
    error = error_of(post(router_url, {"messages": big}), 413)
    assert error["code"] == "request_too_large"


def test_chunked_body_over_limit_is_413(router_url: str):
    def body() -> Iterator[bytes]:
        yield b'{"messages": [{"role": "user", "content": "'
        for _ in range(80):
            yield b"y" * 1024
        yield b'"}]}'

    response = httpx.post(
        router_url + "/v1/chat/completions",
        content=body(),
        headers={"content-type": "application/json"},
    )
    error_of(response, 413)


def test_prompt_longer_than_every_context_window(router_url: str):
    # ~9k tokens: over the 8192-token windows of the test catalog, under the body limit
    long = [{"role": "user", "content": "word " * 9000}]
    error = error_of(post(router_url, {"messages": long}), 400)
    assert error["code"] == "context_length_exceeded"


def test_infeasible_constraint_names_it(router_url: str):
    body = {"messages": MESSAGES, "router": {"min_quality": 0.99}}
    error = error_of(post(router_url, body), 400)
    assert error["code"] == "no_feasible_model"
    assert error["param"] == "router.min_quality"
    assert "min_quality" in str(error["message"])


def test_upstream_error_is_502_with_its_message(router_url, upstream_state: FakeUpstreamState):
    upstream_state.fail_status = 500
    error = error_of(post(router_url, {"model": "gpt-3.5-turbo-1106", "messages": MESSAGES}), 502)
    assert "upstream exploded" in str(error["message"])
    stream_body = {"model": "auto", "messages": MESSAGES, "stream": True}
    error_of(post(router_url, stream_body), 502)


def test_upstream_timeout_is_504(router_url: str, upstream_state: FakeUpstreamState):
    upstream_state.delay_s = 3.0  # the test catalog's upstream_timeout_s is 2
    # A named model: no fallback, and a timeout is never retried on the same model.
    body = {"model": "gpt-4-1106-preview", "messages": MESSAGES}
    error = error_of(post(router_url, body), 504)
    assert error["code"] == "upstream_timeout"


def test_openai_client_raises_typed_errors(client: openai.OpenAI):
    with pytest.raises(openai.NotFoundError) as caught:
        client.chat.completions.create(model="gpt-9", messages=MESSAGES)
    assert caught.value.code == "model_not_found"
    with pytest.raises(openai.BadRequestError):
        client.chat.completions.create(model="auto", messages=[])


def test_missing_api_key_fails_only_when_chosen(
    upstream_url: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
):
    monkeypatch.delenv("PARETOROUTE_TEST_MISSING_KEY", raising=False)
    document = catalog_document(upstream_url)
    document["models"][0]["api_key_env"] = "PARETOROUTE_TEST_MISSING_KEY"
    catalog = parse_catalog(document, "missing-key-catalog")
    assert "PARETOROUTE_TEST_MISSING_KEY" in caplog.text
    app = create_app(Settings(), catalog=catalog, scorer=PriorScorer())
    with live_server(app) as url:
        ok = post(url, {"model": "gpt-3.5-turbo-1106", "messages": MESSAGES})
        assert ok.status_code == 200
        error = error_of(post(url, {"model": "gpt-4-1106-preview", "messages": MESSAGES}), 503)
        assert "PARETOROUTE_TEST_MISSING_KEY" in str(error["message"])
