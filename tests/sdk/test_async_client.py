"""The async client against the router on loopback; same shape as the sync one."""

from __future__ import annotations

import asyncio
import inspect

import pytest

import paretoroute as pr
from tests.router.servers import FakeUpstreamState

HI = [{"role": "user", "content": "Say hello."}]


async def test_chat(async_client: pr.AsyncClient, upstream_state: FakeUpstreamState):
    result = await async_client.chat(HI, profile="cheap", temperature=0.5)
    assert result.choices[0].message.content == upstream_state.reply
    assert result.routing.model == "mistralai/mistral-7b-chat"
    assert result.routing.request_id and result.routing.profile == "cheap"
    assert upstream_state.requests[-1]["temperature"] == 0.5


async def test_concurrent_calls_get_distinct_request_ids(async_client: pr.AsyncClient):
    results = await asyncio.gather(*(async_client.chat(HI) for _ in range(5)))
    assert len({r.routing.request_id for r in results}) == 5


async def test_stream(async_client: pr.AsyncClient, upstream_state: FakeUpstreamState):
    async with await async_client.chat(
        HI, stream=True, allowed_models=["gpt-3.5-turbo-1106"]
    ) as stream:
        assert stream.routing.model == "gpt-3.5-turbo-1106"
        chunks = [chunk async for chunk in stream]
    assert chunks[0].routing.request_id == stream.routing.request_id
    text = "".join(chunk.choices[0].delta.content or "" for chunk in chunks)
    assert text.split() == upstream_state.reply.split()


async def test_route_models_health_complete(async_client: pr.AsyncClient):
    decision = await async_client.route(HI, profile="gpt4only")
    assert decision.model == "gpt-4-1106-preview"
    assert "auto:cheap" in (await async_client.models()).ids
    assert (await async_client.health()).status == "ready"
    completion = await async_client.complete(["Say", "hello"], profile="cheap")
    assert completion.choices[0].text and completion.routing.profile == "cheap"


async def test_errors(async_client: pr.AsyncClient, upstream_state: FakeUpstreamState):
    with pytest.raises(pr.NoFeasibleModelError):
        await async_client.chat(HI, max_cost_usd=0.0)
    upstream_state.fail_status = 503
    with pytest.raises(pr.UpstreamError) as caught:
        await async_client.chat(HI)
    assert caught.value.status_code == 502


def _shape(cls: type) -> dict[str, list[str]]:
    methods = {}
    for name, member in inspect.getmembers(cls, inspect.isfunction):
        if not name.startswith("_") and name not in {"close", "aclose"}:
            methods[name] = [str(p) for p in inspect.signature(member).parameters.values()]
    return methods


def test_async_client_has_the_sync_shape():
    assert _shape(pr.AsyncClient) == _shape(pr.Client)
    assert set(_shape(pr.Client)) == {"chat", "complete", "route", "models", "feedback", "health"}
    sync_init = inspect.signature(pr.Client.__init__)
    assert inspect.signature(pr.AsyncClient.__init__) == sync_init
    assert list(sync_init.parameters)[1:] == ["base_url", "api_key", "timeout", "max_retries"]
