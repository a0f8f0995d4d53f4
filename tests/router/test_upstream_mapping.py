"""The same status mapping and scrubbing on every upstream path (aiohttp and litellm),
against the socket-level fake; plus the scrubber and the status table on their own."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from router.errors import (
    UpstreamAuthError,
    UpstreamBadRequestError,
    UpstreamConnectionError,
    UpstreamError,
    UpstreamRateLimitError,
    UpstreamTimeoutError,
)
from router.upstream.aiohttp_upstream import AiohttpUpstream
from router.upstream.base import Upstream, UpstreamTarget
from router.upstream.http1_upstream import Http1Upstream
from router.upstream.litellm_upstream import LiteLLMUpstream
from router.upstream.scrub import scrub
from router.upstream.status import parse_retry_after, status_error
from tests.router.faulty import FaultState, FaultyUpstream, faulty_upstream

KEY = "sk-ant-api03-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789"
BODY = {"messages": [{"role": "user", "content": "hi"}], "max_tokens": 5}


@pytest.fixture(scope="module")
def fake() -> Iterator[FaultyUpstream]:
    with faulty_upstream() as server:
        yield server


@pytest.fixture(params=["http1", "aiohttp", "litellm"])
def upstream(request: pytest.FixtureRequest) -> Upstream:
    kinds = {"http1": Http1Upstream, "aiohttp": AiohttpUpstream, "litellm": LiteLLMUpstream}
    return kinds[request.param]()


def call(upstream: Upstream, fake: FaultyUpstream, **state: object) -> UpstreamError:
    fresh = FaultState()
    for name in ("mode", "status", "message", "retry_after", "hits"):
        setattr(fake.state, name, state.get(name, getattr(fresh, name)))
    target = UpstreamTarget(
        model="public-name",
        litellm_model="openai/gpt-4o",
        api_base=fake.url,
        api_key=KEY,
        timeout_s=1.0,
    )

    async def run() -> UpstreamError:
        try:
            await upstream.complete(target, "chat", BODY)
        except UpstreamError as error:
            return error
        finally:
            await upstream.aclose()
        raise AssertionError("no error raised")

    error = asyncio.run(run())
    for leaked in (KEY, "127.0.0.1", str(fake.port), "Traceback", 'File "', "10.9.8.7"):
        assert leaked not in error.message, error.message
    return error


def test_bad_request(upstream: Upstream, fake: FaultyUpstream):
    error = call(upstream, fake, mode="status", status=400, message=f"bad 'n' value {KEY}")
    assert isinstance(error, UpstreamBadRequestError) and error.status_code == 400
    assert "bad 'n' value" in error.message
    assert fake.state.hits == 1


def test_auth(upstream: Upstream, fake: FaultyUpstream):
    error = call(upstream, fake, mode="echo_auth")
    assert isinstance(error, UpstreamAuthError) and error.status_code == 502
    assert error.headers() == {"x-should-retry": "false"}
    assert fake.state.hits == 1


def test_rate_limit_keeps_retry_after(upstream: Upstream, fake: FaultyUpstream):
    error = call(upstream, fake, mode="status", status=429, retry_after="7")
    assert isinstance(error, UpstreamRateLimitError) and error.status_code == 429
    assert error.retry_after_s == 7.0 and error.headers() == {"retry-after": "7"}
    assert fake.state.hits == 1, "the transport retried by itself"


def test_server_error(upstream: Upstream, fake: FaultyUpstream):
    message = "worker at 10.9.8.7:5000 died"
    error = call(upstream, fake, mode="status", status=503, message=message)
    assert type(error) is UpstreamError and error.upstream_status == 503
    assert fake.state.hits == 1


def test_timeout(upstream: Upstream, fake: FaultyUpstream):
    fake.state.hang_s = 3.0
    error = call(upstream, fake, mode="hang")
    assert isinstance(error, UpstreamTimeoutError) and error.status_code == 504


def test_refused(upstream: Upstream, fake: FaultyUpstream):
    fake.listening(False)
    try:
        error = call(upstream, fake)
    finally:
        fake.listening(True)
    assert isinstance(error, UpstreamConnectionError) and error.status_code == 502
    assert "public-name" in error.message


@pytest.mark.parametrize(
    ("text", "gone"),
    [
        ("Authorization: Bearer abc.def-ghi", "abc.def-ghi"),
        ("key sk-ant-api03-xyzXYZ0123456789 rejected", "xyzXYZ0123456789"),
        ("aws AKIAIOSFODNN7EXAMPLE denied", "AKIAIOSFODNN7EXAMPLE"),
        ("token 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", "9f86d081"),
        ("blob dGhpcyBpcyBhIHZlcnkgbG9uZyBzZWNyZXQgdmFsdWUgaW4gYmFzZTY0", "dGhpcyBp"),
        ('{"api_key": "plainsecret"}', "plainsecret"),
        ("connect to http://gateway.internal:8080/v1 failed", "gateway.internal"),
        ("dial tcp 192.168.1.20:443: refused", "192.168.1.20"),
        ("host llm-backend:11434 is down", "11434"),
        ("ipv6 [::1]:8000 down", "::1"),
    ],
)
def test_scrub_removes(text: str, gone: str):
    assert gone not in scrub(text)


def test_scrub_cuts_tracebacks_and_length():
    text = 'oops\nTraceback (most recent call last):\n  File "/srv/x.py", line 3, in f\nboom'
    assert scrub(text) == "oops"
    assert scrub('bad File "/srv/app.py", line 12, in run') == "bad"
    assert len(scrub("word " * 500)) == 500
    assert scrub("weird key", ["weird"]) == "[redacted] key"
    assert scrub("temperature must be <= 2") == "temperature must be <= 2"


@pytest.mark.parametrize(
    ("status", "kind", "answer"),
    [
        (400, UpstreamBadRequestError, 400),
        (404, UpstreamBadRequestError, 400),
        (422, UpstreamBadRequestError, 400),
        (401, UpstreamAuthError, 502),
        (403, UpstreamAuthError, 502),
        (408, UpstreamTimeoutError, 504),
        (429, UpstreamRateLimitError, 429),
        (409, UpstreamError, 502),
        (500, UpstreamError, 502),
        (503, UpstreamError, 502),
    ],
)
def test_status_table(status: int, kind: type[UpstreamError], answer: int):
    error = status_error("m", status, "text")
    assert type(error) is kind and error.status_code == answer


def test_retry_after_forms():
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after("-4") == 0.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None
    assert parse_retry_after("inf") is None
    http_date = parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0)
    assert http_date == 10.0
