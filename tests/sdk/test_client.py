"""The sync client against the router on loopback (fake upstream behind it)."""

from __future__ import annotations

import pytest

from paretoroute import ChatCompletion, Client, Completion, RouterPreferences, Stream
from tests.router.servers import FakeUpstreamState

HI = [{"role": "user", "content": "Say hello."}]


def test_chat_returns_completion_and_routing(client: Client, upstream_state: FakeUpstreamState):
    result = client.chat(HI, profile="cheap")
    assert isinstance(result, ChatCompletion)
    assert result.choices[0].message.content == upstream_state.reply
    assert result.usage is not None and result.usage.total_tokens == 11
    routing = result.routing
    assert routing.model == result.model == "mistralai/mistral-7b-chat"
    assert routing.profile == "cheap"
    assert routing.request_id is not None and routing.request_id.startswith("pr-")
    assert routing.decision_ms is not None and routing.decision_ms >= 0
    assert routing.predicted_cost_usd is not None and routing.predicted_cost_usd > 0
    assert routing.fallback is None and not routing.fell_back
    assert "routing" not in result.model_dump()


def test_preferences_go_in_router_object_and_openai_fields_pass(
    client: Client, upstream_state: FakeUpstreamState
):
    result = client.chat(
        HI, allowed_models=["gpt-4-1106-preview"], temperature=0.25, max_tokens=7, seed=3
    )
    assert result.routing.model == "gpt-4-1106-preview"
    sent = upstream_state.requests[-1]
    assert (sent["temperature"], sent["max_tokens"], sent["seed"]) == (0.25, 7, 3)
    assert "router" not in sent and "allowed_models" not in sent


def test_router_object_and_keywords_merge(client: Client):
    base = RouterPreferences(profile="best", blocked_models=["gpt-4-1106-preview"])
    decision = client.route(HI, router=base, min_quality=0.1)
    assert decision.profile == "best"
    assert decision.preferences["min_quality"] == 0.1
    assert decision.preferences["blocked_models"] == ["gpt-4-1106-preview"]
    assert decision.model != "gpt-4-1106-preview"


def test_fallback_reported(client: Client):
    result = client.chat(HI, max_cost_usd=0.0, fallback_on_infeasible=True)
    assert result.routing.fell_back
    assert "max_cost_usd" in (result.routing.fallback or "")


def test_named_model_has_no_profile(client: Client):
    result = client.chat(HI, model="gpt-3.5-turbo-1106")
    assert result.routing.model == "gpt-3.5-turbo-1106"
    assert result.routing.profile is None


def test_route_is_the_decision_only(client: Client, upstream_state: FakeUpstreamState):
    decision = client.route(HI, cost_weight=0.0)
    assert upstream_state.requests == []
    assert decision.model == "gpt-4-1106-preview"
    assert {row.model for row in decision.models} == {
        "gpt-4-1106-preview",
        "gpt-3.5-turbo-1106",
        "mistralai/mistral-7b-chat",
    }
    assert decision.preferences["cost_weight"] == 0.0
    chosen = next(row for row in decision.models if row.model == decision.model)
    assert chosen.feasible and chosen.on_pareto_front


def test_complete_legacy(client: Client, upstream_state: FakeUpstreamState):
    result = client.complete("Say hello.", profile="cheap", max_tokens=5)
    assert isinstance(result, Completion)
    assert result.choices[0].text == upstream_state.reply
    assert result.routing.profile == "cheap"
    assert upstream_state.requests[-1]["prompt"] == "Say hello."


def test_models_and_health(client: Client):
    models = client.models()
    assert models.ids[:2] == ["auto", "auto:best"]
    assert "gpt-3.5-turbo-1106" in models.ids
    health = client.health()
    assert health.status == "ready" and health.models == 3


def test_stream_routing_before_first_chunk(client: Client, upstream_state: FakeUpstreamState):
    with client.chat(HI, profile="cheap", stream=True) as stream:
        assert isinstance(stream, Stream)
        assert stream.routing.model == "mistralai/mistral-7b-chat"
        chunks = list(stream)
    assert chunks[0].routing == stream.routing
    assert chunks[0].routing.request_id == stream.routing.request_id
    text = "".join(chunk.choices[0].delta.content or "" for chunk in chunks)
    assert text.split() == upstream_state.reply.split()
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert upstream_state.requests[-1]["stream"] is True


def test_stream_legacy_completion(client: Client):
    chunks = list(client.complete("Say hello.", stream=True))
    assert chunks and all(chunk.routing.request_id for chunk in chunks)


def test_base_url_with_v1_and_env(router_url: str, monkeypatch: pytest.MonkeyPatch):
    with Client(router_url + "/v1/") as explicit:
        assert explicit.base_url == router_url
        assert explicit.health().status == "ready"
    monkeypatch.setenv("PARETOROUTE_BASE_URL", router_url)
    with Client() as from_env:
        assert from_env.models().ids[0] == "auto"


def test_bad_preference_rejected_before_sending(client: Client, upstream_state):
    with pytest.raises(ValueError, match="min_quality"):
        client.chat(HI, min_quality=2)
    assert upstream_state.requests == []
