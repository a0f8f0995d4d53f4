"""Retries, counted on a loopback stub: which failures retry, how often, how long between."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

import paretoroute as pr
from paretoroute._retry import MAX_RETRY_AFTER_S, RetryPolicy, retry_after_s
from tests.router.servers import listener
from tests.sdk.stubs import Reply, error_body

OK_MODELS = Reply(200, {"object": "list", "data": [{"id": "auto"}]})
NOW = {"retry-after": "0"}


def _fail(status: int, headers: dict[str, str] | None = None) -> Reply:
    return Reply(status, error_body(f"status {status}", "server_error"), headers or {})


@pytest.mark.parametrize("status", [502, 503, 504])
def test_gateway_errors_retry_until_success(scripted, status):
    with (
        scripted(_fail(status, NOW), _fail(status, NOW), OK_MODELS) as (url, script),
        pr.Client(url, max_retries=2) as sdk,
    ):
        assert sdk.models().ids == ["auto"]
    assert len(script.hits) == 3


def test_gives_up_after_max_retries(scripted):
    with (
        scripted(_fail(503, NOW)) as (url, script),
        pr.Client(url, max_retries=3) as sdk,
        pytest.raises(pr.ServiceUnavailableError),
    ):
        sdk.models()
    assert len(script.hits) == 4


def test_rate_limit_retries_only_with_retry_after(scripted):
    with (
        scripted(_fail(429, {"retry-after": "0.2"}), OK_MODELS) as (url, script),
        pr.Client(url, max_retries=2) as sdk,
    ):
        started = time.monotonic()
        sdk.models()
        waited = time.monotonic() - started
    assert len(script.hits) == 2 and waited >= 0.2
    with (
        scripted(_fail(429), OK_MODELS) as (url, script),
        pr.Client(url, max_retries=2) as sdk,
        pytest.raises(pr.RateLimitError) as caught,
    ):
        sdk.models()
    assert len(script.hits) == 1 and caught.value.retry_after is None


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 413, 422])
def test_other_4xx_never_retry(scripted, status):
    with (
        scripted(_fail(status, NOW), OK_MODELS) as (url, script),
        pr.Client(url, max_retries=3) as sdk,
        pytest.raises(pr.APIStatusError),
    ):
        sdk.chat([{"role": "user", "content": "hi"}])
    assert len(script.hits) == 1


def test_backoff_without_retry_after(scripted):
    with scripted(_fail(502), OK_MODELS) as (url, script), pr.Client(url, max_retries=1) as sdk:
        started = time.monotonic()
        sdk.models()
        waited = time.monotonic() - started
    # The first backoff is 0.5 s less up to 25% jitter.
    assert len(script.hits) == 2 and 0.37 <= waited < 2.0


async def test_async_retries_the_same_way(scripted):
    with scripted(_fail(503, NOW), OK_MODELS) as (url, script):
        async with pr.AsyncClient(url, max_retries=1) as sdk:
            assert (await sdk.models()).ids == ["auto"]
    assert len(script.hits) == 2
    with scripted(_fail(404, NOW)) as (url, script):
        async with pr.AsyncClient(url, max_retries=3) as sdk:
            with pytest.raises(pr.NotFoundError):
                await sdk.models()
    assert len(script.hits) == 1


def test_connection_errors_retry():
    # The listener accepts and closes at once: every attempt is a new connection.
    with (
        listener() as dropped,
        pr.Client(dropped.url, max_retries=2) as sdk,
        pytest.raises(pr.ConnectionError),
    ):
        sdk.models()
        deadline = time.monotonic() + 2
        while len(dropped.connections) < 3 and time.monotonic() < deadline:
            time.sleep(0.01)
    assert len(dropped.connections) == 3


def test_retry_after_forms():
    assert retry_after_s("1.5") == 1.5
    assert retry_after_s("-3") == 0.0
    assert retry_after_s(None) is None and retry_after_s("soon") is None
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    assert 28 <= (retry_after_s(later) or 0) <= 30


def test_policy_bounds():
    policy = RetryPolicy(max_retries=10)
    assert all(policy.backoff(n) <= policy.max_backoff_s for n in range(10))
    assert policy.backoff(0) >= 0.375
    huge = pr.ServiceUnavailableError("x", status_code=503, retry_after=MAX_RETRY_AFTER_S + 1)
    assert (policy.delay(0, huge) or 99) <= policy.initial_backoff_s  # not the server's hour
    limited = pr.RateLimitError("x", status_code=429, retry_after=MAX_RETRY_AFTER_S + 1)
    assert policy.delay(0, limited) is None
    assert RetryPolicy(max_retries=0).delay(0, pr.ConnectionError("x")) is None
