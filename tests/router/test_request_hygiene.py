"""No caller field may choose where or how an upstream is called (the key-exfiltration hole).

Every provider field is sent, on both upstream paths (direct OpenAI forwarding and the
litellm translator), at a live router on loopback, pointing at a listener that must never
see a connection. A second layer is checked without the HTTP edge: each upstream
implementation filters the body again, so a body that skipped validation cannot steer it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest

from predictors.prior import PriorScorer
from router.app import create_app
from router.catalog import Catalog, parse_catalog
from router.settings import Settings
from router.upstream.aiohttp_upstream import AiohttpUpstream
from router.upstream.base import Upstream, UpstreamTarget
from router.upstream.fields import CHAT_FIELDS, PROVIDER_FIELDS, TEXT_FIELDS
from router.upstream.http1_upstream import Http1Upstream
from router.upstream.litellm_upstream import LiteLLMUpstream
from tests.router.conftest import catalog_document
from tests.router.servers import FakeUpstreamState, Listener, listener, live_server

MESSAGES = [{"role": "user", "content": "hello"}]
DIRECT = "gpt-3.5-turbo-1106"
TRANSLATED = "claude-haiku"


def attack_value(name: str, trap: Listener) -> Any:
    """A value for ``name`` that would reach the trap (or fake an answer) if honoured."""
    if name in {"extra_headers", "headers"}:
        return {"x-stolen": "1", "host": trap.url.split("/")[2]}
    if name in {"extra_body", "litellm_params", "litellm_metadata", "extra_query"}:
        return {"api_base": trap.url}
    if name in {"mock_response"}:
        return "an answer no model gave"
    if name in {"fallbacks", "model_list", "callbacks", "success_callback", "failure_callback"}:
        return [trap.url]
    return trap.url


@pytest.fixture(scope="module")
def trap() -> Iterator[Listener]:
    with listener() as seen:
        yield seen


@pytest.fixture(autouse=True)
def _no_connection_to_trap(trap: Listener) -> Iterator[None]:
    yield
    assert trap.connections == [], "a caller field redirected an upstream call"


def hygiene_catalog(upstream_url: str) -> Catalog:
    document = catalog_document(upstream_url)
    document["models"].append(
        {
            "name": TRANSLATED,
            "litellm_model": "anthropic/claude-3-haiku-20240307",
            "input_usd_per_token": 2.5e-7,
            "output_usd_per_token": 1.25e-6,
            "api_key_env": "PARETOROUTE_TEST_ANTHROPIC_KEY",
            "context_window": 8192,
        }
    )
    return parse_catalog(document, "hygiene-catalog")


@pytest.fixture(scope="module")
def routers(upstream_url: str) -> Iterator[dict[str, str]]:
    """The same catalog served twice: unknown fields rejected (default) and dropped."""
    catalog = hygiene_catalog(upstream_url)
    reject = create_app(Settings(), catalog=catalog, scorer=PriorScorer())
    drop = create_app(Settings(unknown_fields="drop"), catalog=catalog, scorer=PriorScorer())
    with live_server(reject) as reject_url, live_server(drop) as drop_url:
        yield {"reject": reject_url, "drop": drop_url}


@pytest.fixture(autouse=True)
def _anthropic_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PARETOROUTE_TEST_ANTHROPIC_KEY", "sk-ant-server-secret")


@pytest.mark.parametrize("mode", ["reject", "drop"])
@pytest.mark.parametrize("model", [DIRECT, TRANSLATED, "auto"])
@pytest.mark.parametrize("field", sorted(PROVIDER_FIELDS))
def test_provider_field_is_refused_on_every_path(routers, trap, upstream_state, mode, model, field):
    body = {"model": model, "messages": MESSAGES, field: attack_value(field, trap)}
    response = httpx.post(routers[mode] + "/v1/chat/completions", json=body, timeout=10)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["param"] == field and error["code"] == "forbidden_parameter"
    assert upstream_state.requests == []


@pytest.mark.parametrize("field", ["api_base", "extra_headers", "mock_response"])
def test_provider_field_is_refused_on_legacy_completions_and_route(routers, trap, field):
    value = attack_value(field, trap)
    legacy = {"model": DIRECT, "prompt": "hello", field: value}
    response = httpx.post(routers["reject"] + "/v1/completions", json=legacy, timeout=10)
    assert response.status_code == 400 and response.json()["error"]["param"] == field
    routed = {"messages": MESSAGES, field: value}
    response = httpx.post(routers["reject"] + "/v1/route", json=routed, timeout=10)
    assert response.status_code == 400 and response.json()["error"]["param"] == field


def test_openai_client_extra_body_cannot_redirect(routers, trap):
    client = openai.OpenAI(base_url=routers["reject"] + "/v1", api_key="unused", max_retries=0)
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(
            model=TRANSLATED, messages=MESSAGES, extra_body={"api_base": trap.url}
        )
    assert "api_base" in str(caught.value)


def test_unknown_field_rejected_by_default(routers, upstream_state):
    body = {"model": DIRECT, "messages": MESSAGES, "frobnicate": 1}
    response = httpx.post(routers["reject"] + "/v1/chat/completions", json=body, timeout=10)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["param"] == "frobnicate" and error["code"] == "unknown_parameter"
    assert upstream_state.requests == []


def test_unknown_field_dropped_and_reported_when_configured(routers, upstream_state):
    body = {"model": DIRECT, "messages": MESSAGES, "frobnicate": 1, "logprobs": True}
    response = httpx.post(routers["drop"] + "/v1/chat/completions", json=body, timeout=10)
    assert response.status_code == 200, response.text
    assert response.headers["x-paretoroute-dropped-fields"] == "frobnicate"
    sent = upstream_state.requests[-1]
    assert "frobnicate" not in sent and sent["logprobs"] is True


def test_openai_fields_still_pass_through(routers, upstream_state):
    body = {
        "model": DIRECT,
        "messages": MESSAGES,
        "logprobs": True,
        "top_logprobs": 2,
        "parallel_tool_calls": False,
        "reasoning_effort": "low",
        "metadata": {"team": "search"},
    }
    response = httpx.post(routers["reject"] + "/v1/chat/completions", json=body, timeout=10)
    assert response.status_code == 200, response.text
    assert "x-paretoroute-dropped-fields" not in response.headers
    sent = upstream_state.requests[-1]
    for name, value in body.items():
        if name != "model":
            assert sent[name] == value


def test_allow_lists_and_deny_list_are_disjoint():
    assert not (CHAT_FIELDS | TEXT_FIELDS) & PROVIDER_FIELDS


def _target(url: str) -> UpstreamTarget:
    return UpstreamTarget(
        model="public-name",
        litellm_model="openai/gpt-3.5-turbo-1106",
        api_base=url,
        api_key="sk-server-secret",
        timeout_s=5.0,
    )


@pytest.fixture(params=["http1", "aiohttp", "litellm"])
def upstream(request: pytest.FixtureRequest) -> Upstream:
    kinds = {"http1": Http1Upstream, "aiohttp": AiohttpUpstream, "litellm": LiteLLMUpstream}
    return kinds[request.param]()


def test_upstreams_filter_provider_fields_themselves(
    upstream: Upstream, upstream_url: str, upstream_state: FakeUpstreamState, trap: Listener
):
    """Defence in depth: every provider field at once, straight into each upstream."""
    body: dict[str, Any] = {"messages": MESSAGES, "max_tokens": 5}
    body.update({name: attack_value(name, trap) for name in PROVIDER_FIELDS})

    async def run() -> dict[str, Any]:
        try:
            return await upstream.complete(_target(upstream_url), "chat", body)
        finally:
            await upstream.aclose()

    result = asyncio.run(run())
    assert result["choices"][0]["message"]["content"] == upstream_state.reply
    sent, headers = upstream_state.requests[-1], upstream_state.headers[-1]
    assert not set(sent) & PROVIDER_FIELDS
    assert "x-stolen" not in headers
    assert headers["authorization"] == "Bearer sk-server-secret"
