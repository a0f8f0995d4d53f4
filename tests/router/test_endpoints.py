"""The OpenAI-compatible endpoints, called with the official client over loopback."""

from __future__ import annotations

import asyncio

import httpx
import openai

from tests.router.servers import FakeUpstreamState

MESSAGES = [{"role": "user", "content": "What is the capital of France?"}]


def test_auto_routes_and_sets_headers(client: openai.OpenAI, upstream_state: FakeUpstreamState):
    raw = client.chat.completions.with_raw_response.create(model="auto", messages=MESSAGES)
    completion = raw.parse()
    # default profile "best" (cost_weight 0) picks the highest prior quality
    assert completion.model == "gpt-4-1106-preview"
    assert raw.headers["x-paretoroute-model"] == "gpt-4-1106-preview"
    assert raw.headers["x-paretoroute-request-id"].startswith("pr-")
    assert float(raw.headers["x-paretoroute-decision-ms"]) > 0
    assert float(raw.headers["x-paretoroute-predicted-cost-usd"]) > 0
    assert completion.choices[0].message.content == upstream_state.reply
    # the upstream got its own model id and never the router's fields
    sent = upstream_state.requests[-1]
    assert sent["model"] == "gpt-4-1106-preview"
    assert "router" not in sent


def test_profile_in_model_name_changes_choice(client: openai.OpenAI):
    raw = client.chat.completions.with_raw_response.create(model="auto:cheap", messages=MESSAGES)
    assert raw.parse().model == "mistralai/mistral-7b-chat"
    assert raw.headers["x-paretoroute-profile"] == "cheap"


def test_router_object_via_extra_body(client: openai.OpenAI):
    completion = client.chat.completions.create(
        model="auto",
        messages=MESSAGES,
        extra_body={"router": {"allowed_models": ["gpt-3.5-turbo-1106"]}},
    )
    assert completion.model == "gpt-3.5-turbo-1106"


def test_preference_headers(client: openai.OpenAI):
    raw = client.chat.completions.with_raw_response.create(
        model="auto",
        messages=MESSAGES,
        extra_headers={"x-paretoroute-max-cost-usd": "0.00003"},
    )
    assert raw.parse().model == "mistralai/mistral-7b-chat"


def test_named_model_forwards_without_routing(client, upstream_state: FakeUpstreamState):
    raw = client.chat.completions.with_raw_response.create(
        model="gpt-3.5-turbo-1106",
        messages=MESSAGES,
        temperature=0.2,
        max_tokens=17,
        seed=7,
        stop=["\n"],
        user="u1",
        n=1,
        tools=[{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}],
        tool_choice="auto",
        response_format={"type": "text"},
        extra_body={"logit_bias": {"50256": -100}},
    )
    assert raw.parse().model == "gpt-3.5-turbo-1106"
    assert raw.headers["x-paretoroute-decision-ms"] == "0.000"
    sent = upstream_state.requests[-1]
    for field, value in {
        "temperature": 0.2,
        "max_tokens": 17,
        "seed": 7,
        "stop": ["\n"],
        "user": "u1",
        "tool_choice": "auto",
        "response_format": {"type": "text"},
        "logit_bias": {"50256": -100},
    }.items():
        assert sent[field] == value, field
    assert sent["tools"][0]["function"]["name"] == "f"


def test_streaming_yields_chunks_and_ends(client: openai.OpenAI, upstream_state):
    stream = client.chat.completions.create(model="auto", messages=MESSAGES, stream=True)
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks)
    assert text.split() == upstream_state.reply.split()
    assert {c.model for c in chunks} == {"gpt-4-1106-preview"}
    assert chunks[-1].choices[0].finish_reason == "stop"


def test_streaming_raw_sse_ends_with_done(router_url: str):
    body = {"model": "auto", "messages": MESSAGES, "stream": True}
    with httpx.stream("POST", router_url + "/v1/chat/completions", json=body) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        assert response.headers["x-paretoroute-model"] == "gpt-4-1106-preview"
        lines = [line for line in response.iter_lines() if line]
    assert lines[-1] == "data: [DONE]"


def test_async_client(router_url: str):
    async def run() -> tuple[str, str]:
        async with openai.AsyncOpenAI(base_url=router_url + "/v1", api_key="x") as aclient:
            completion = await aclient.chat.completions.create(model="auto", messages=MESSAGES)
            stream = await aclient.chat.completions.create(
                model="gpt-3.5-turbo-1106", messages=MESSAGES, stream=True
            )
            parts = [c.choices[0].delta.content or "" async for c in stream]
            return completion.model, "".join(parts)

    model, streamed = asyncio.run(run())
    assert model == "gpt-4-1106-preview"
    assert streamed.strip()


def test_legacy_completions(client: openai.OpenAI, upstream_state: FakeUpstreamState):
    completion = client.completions.create(model="auto", prompt="Say hi")
    assert completion.model == "gpt-4-1106-preview"
    assert completion.choices[0].text == upstream_state.reply
    assert upstream_state.requests[-1]["prompt"] == "Say hi"


def test_models_lists_catalog_and_profiles(client: openai.OpenAI):
    ids = [m.id for m in client.models.list()]
    assert ids[:4] == ["auto", "auto:best", "auto:cheap", "auto:gpt4only"]
    assert "mistralai/mistral-7b-chat" in ids


def test_route_returns_per_model_table(router_url: str):
    body = {"messages": MESSAGES, "router": {"max_cost_usd": 0.001}}
    response = httpx.post(router_url + "/v1/route", json=body)
    assert response.status_code == 200, response.text
    decision = response.json()
    rows = {row["model"]: row for row in decision["models"]}
    assert set(rows) == {"gpt-4-1106-preview", "gpt-3.5-turbo-1106", "mistralai/mistral-7b-chat"}
    assert decision["model"] in rows and rows[decision["model"]]["feasible"]
    assert decision["preferences"]["max_cost_usd"] == 0.001
    for row in rows.values():
        assert 0 <= row["predicted_quality"] <= 1
        assert row["predicted_runtime_s"] > 0
        assert row["feasible"] == (row["predicted_cost_usd"] <= 0.001)
        assert row["feasible"] or row["infeasible_reason"] == "max_cost_usd"
    assert any(row["on_pareto_front"] for row in rows.values())


def test_route_profile_selects_profile(router_url: str):
    body = {"model": "auto:gpt4only", "messages": MESSAGES}
    decision = httpx.post(router_url + "/v1/route", json=body).json()
    assert decision["model"] == "gpt-4-1106-preview"
    assert decision["profile"] == "gpt4only"


def test_health_and_readiness(router_url: str):
    assert httpx.get(router_url + "/healthz").json() == {
        "status": "ok",
        "catalog": None,
        "models": None,
        "scorer": None,
        "quality_sources": None,
        "detail": None,
    }
    ready = httpx.get(router_url + "/readyz").json()
    assert ready["status"] == "ready" and ready["models"] == 3


def test_openapi_documents_every_endpoint(router_url: str):
    spec = httpx.get(router_url + "/openapi.json").json()
    paths = spec["paths"]
    for path in ("/v1/chat/completions", "/v1/completions", "/v1/models", "/v1/route"):
        assert path in paths
    chat = paths["/v1/chat/completions"]["post"]
    assert "422" not in chat["responses"] and "400" in chat["responses"]
    schema = spec["components"]["schemas"]
    assert "messages" in schema["ChatCompletionRequest"]["required"]
    assert "RouterPreferences" in schema
    assert "models" in schema["RouteResponse"]["properties"]
