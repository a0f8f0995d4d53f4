"""The upstream implementations against a real fake server on loopback."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from router.errors import UpstreamError, UpstreamTimeoutError
from router.upstream.aiohttp_upstream import AiohttpUpstream
from router.upstream.base import Upstream, UpstreamTarget
from router.upstream.dispatch import speaks_openai
from router.upstream.http1_upstream import Http1Upstream
from router.upstream.limits import split_lines
from router.upstream.litellm_upstream import LiteLLMUpstream
from tests.router.servers import FakeUpstreamState, free_port

BODY = {"messages": [{"role": "user", "content": "hi"}], "max_tokens": 5}


def target(url: str, timeout_s: float = 2.0) -> UpstreamTarget:
    return UpstreamTarget(
        model="public-name",
        litellm_model="openai/gpt-3.5-turbo-1106",
        api_base=url,
        api_key="sk-test",
        timeout_s=timeout_s,
    )


@pytest.fixture(params=["http1", "aiohttp", "litellm"])
def upstream(request: pytest.FixtureRequest) -> Upstream:
    kinds = {"http1": Http1Upstream, "aiohttp": AiohttpUpstream, "litellm": LiteLLMUpstream}
    return kinds[request.param]()


def test_complete_and_stream(upstream: Upstream, upstream_url, upstream_state: FakeUpstreamState):
    async def run() -> tuple[dict, list[dict]]:
        result = await upstream.complete(target(upstream_url), "chat", BODY)
        stream = upstream.stream(target(upstream_url), "chat", BODY)
        chunks = [c async for batch in stream for c in batch]
        await upstream.aclose()
        return result, chunks

    result, chunks = asyncio.run(run())
    assert result["choices"][0]["message"]["content"] == upstream_state.reply
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"])
    assert text.split() == upstream_state.reply.split()
    sent = upstream_state.requests[0]
    assert sent["model"] == "gpt-3.5-turbo-1106" and sent["max_tokens"] == 5
    assert upstream_state.headers[0]["authorization"] == "Bearer sk-test"


def test_upstream_error_keeps_its_message(upstream: Upstream, upstream_url, upstream_state):
    upstream_state.fail_status = 503
    with pytest.raises(UpstreamError, match="upstream exploded"):
        asyncio.run(upstream.complete(target(upstream_url), "chat", BODY))


def test_timeout(upstream: Upstream, upstream_url: str, upstream_state: FakeUpstreamState):
    upstream_state.delay_s = 2.0
    with pytest.raises(UpstreamTimeoutError):
        asyncio.run(upstream.complete(target(upstream_url, timeout_s=0.5), "chat", BODY))


def test_unreachable_upstream(upstream: Upstream):
    url = f"http://127.0.0.1:{free_port()}/v1"
    with pytest.raises(UpstreamError):
        asyncio.run(upstream.complete(target(url), "chat", BODY))


def test_dispatch_rule():
    assert speaks_openai("openai/gpt-4o", None)
    assert speaks_openai("hosted_vllm/meta-llama/Llama-3-8B", "http://127.0.0.1:8001/v1")
    assert speaks_openai("anything", "builtin:replay")
    assert not speaks_openai("anthropic/claude-sonnet-4-5", None)
    assert not speaks_openai("bedrock/anthropic.claude-v2:1", None)


def test_split_lines_hands_on_the_lines_of_each_read_together():
    async def reads(*parts: bytes) -> AsyncIterator[bytes]:
        for part in parts:
            yield part

    async def run(*parts: bytes, limit: int = 1024) -> list[list[bytes]]:
        return [batch async for batch in split_lines(reads(*parts), limit, "m")]

    assert asyncio.run(run(b"a\nb", b"c\n\nd\r\n", b"e")) == [[b"a"], [b"bc", b"", b"d"], [b"e"]]
    line = b"x" * 3000  # a line across many reads comes out whole, once
    assert asyncio.run(run(*[line[i : i + 7] for i in range(0, 3000, 7)], b"\n", limit=4096)) == [
        [line]
    ]
    with pytest.raises(UpstreamError, match="larger than"):
        asyncio.run(run(b"y" * 600, b"y" * 600, limit=1000))  # no newline yet: still capped
