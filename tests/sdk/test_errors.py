"""Every SDK exception, provoked over real HTTP: from the router where it can, else a stub."""

from __future__ import annotations

import pytest

import paretoroute as pr
from predictors.prior import PriorScorer
from router.app import create_app
from router.errors import UpstreamError as ServerUpstreamError
from router.errors import UpstreamTimeoutError as ServerUpstreamTimeout
from tests.router.servers import FakeUpstreamState, free_port, live_server
from tests.sdk.stubs import BreaksMidStream, Reply, error_body, isolated_settings

HI = [{"role": "user", "content": "Say hello."}]


def _expect(error_type: type[pr.ParetorouteError], call) -> pr.ParetorouteError:
    with pytest.raises(error_type) as caught:
        call()
    return caught.value


def test_bad_request_names_param(client: pr.Client):
    error = _expect(pr.BadRequestError, lambda: client.chat(HI, temperature=5))
    assert (error.status_code, error.type, error.param) == (
        400,
        "invalid_request_error",
        "temperature",
    )
    assert "temperature" in error.message
    assert type(error) is pr.BadRequestError


def test_no_feasible_model(client: pr.Client):
    error = _expect(pr.NoFeasibleModelError, lambda: client.chat(HI, min_quality=1.0))
    assert isinstance(error, pr.BadRequestError)
    assert (error.status_code, error.code, error.param) == (
        400,
        "no_feasible_model",
        "router.min_quality",
    )


def test_not_found(client: pr.Client):
    error = _expect(pr.NotFoundError, lambda: client.chat(HI, model="no-such-model"))
    assert (error.status_code, error.code) == (404, "model_not_found")


def test_other_status_is_api_status_error(client: pr.Client):
    error = _expect(
        pr.APIStatusError, lambda: client.chat([{"role": "user", "content": "x" * 70_000}])
    )
    assert (error.status_code, error.code) == (413, "request_too_large")
    assert type(error) is pr.APIStatusError


def test_upstream_failure(client: pr.Client, upstream_state: FakeUpstreamState):
    upstream_state.fail_status = 500
    error = _expect(pr.UpstreamError, lambda: client.chat(HI))
    assert (error.status_code, error.type) == (502, "upstream_error")
    assert "upstream exploded" in error.message


def test_upstream_timeout(client: pr.Client, upstream_state: FakeUpstreamState):
    upstream_state.delay_s = 3.0  # the catalog's upstream_timeout_s is 2
    error = _expect(pr.TimeoutError, lambda: client.chat(HI))
    assert (error.status_code, error.code) == (504, "upstream_timeout")


def test_client_timeout(router_url: str, upstream_state: FakeUpstreamState):
    upstream_state.delay_s = 1.0
    with pr.Client(router_url, timeout=0.2, max_retries=2) as impatient:
        error = _expect(pr.TimeoutError, lambda: impatient.chat(HI))
    assert error.status_code is None and "timed out" in error.message
    assert len(upstream_state.requests) == 1  # a read timeout is not retried


def test_connection_refused():
    with pr.Client(f"http://127.0.0.1:{free_port()}", max_retries=0) as nowhere:
        error = _expect(pr.ConnectionError, nowhere.models)
    assert error.status_code is None and "could not reach" in error.message


@pytest.mark.parametrize(
    ("status", "error_type", "kind"),
    [
        (401, pr.AuthenticationError, "invalid_api_key"),
        (403, pr.PermissionDeniedError, "permission_denied"),
        (429, pr.RateLimitError, "rate_limit_exceeded"),
        (500, pr.InternalServerError, "internal_error"),
        (503, pr.ServiceUnavailableError, "model_unavailable"),
    ],
)
def test_statuses_the_router_does_not_produce_yet(scripted, status, error_type, kind):
    reply = Reply(status, error_body("nope", kind, kind), {"x-paretoroute-request-id": "pr-1"})
    with scripted(reply) as (url, script), pr.Client(url, max_retries=0) as sdk:
        error = _expect(error_type, lambda: sdk.chat(HI))
    assert (error.status_code, error.type, error.code, error.message) == (
        status,
        kind,
        kind,
        "nope",
    )
    assert error.request_id == "pr-1"
    assert str(error) == f"{status} nope [{kind}]"
    assert len(script.hits) == 1


def test_non_openai_error_body(scripted):
    with (
        scripted(Reply(503, {"status": "starting", "detail": "loading"})) as (url, _),
        pr.Client(url, max_retries=0) as sdk,
    ):
        error = _expect(pr.ServiceUnavailableError, sdk.health)
    assert error.message == "loading" and error.type is None


@pytest.fixture(scope="module", params=["error", "timeout"])
def breaking_url(request, catalog, tmp_path_factory):
    failure = (
        ServerUpstreamError("provider hung up", upstream_status=500)
        if request.param == "error"
        else ServerUpstreamTimeout("model stalled")
    )
    app = create_app(
        isolated_settings(tmp_path_factory.mktemp("data")),
        catalog=catalog,
        scorer=PriorScorer(),
        upstream=BreaksMidStream(failure),
    )
    with live_server(app) as url:
        yield url, request.param


def test_error_event_mid_stream_raises(breaking_url):
    url, kind = breaking_url
    expected = {"error": (pr.UpstreamError, 502), "timeout": (pr.TimeoutError, 504)}[kind]
    with pr.Client(url, max_retries=0) as sdk:
        stream = sdk.chat(HI, stream=True)
        seen = []
        with pytest.raises(expected[0]) as caught:
            for chunk in stream:
                seen.append(chunk.choices[0].delta.content)
    assert seen == ["Hel"]
    assert caught.value.status_code == expected[1]
    assert caught.value.request_id == stream.routing.request_id


async def test_error_event_mid_stream_raises_async(breaking_url):
    url, kind = breaking_url
    expected = {"error": pr.UpstreamError, "timeout": pr.TimeoutError}[kind]
    async with pr.AsyncClient(url, max_retries=0) as sdk:
        stream = await sdk.chat(HI, stream=True)
        with pytest.raises(expected):
            async for _ in stream:
                pass
