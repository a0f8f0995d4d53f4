"""``feedback()`` against ``POST /v1/feedback`` (the COMMON.md contract) on loopback.

Until the endpoint lands in the router, ``tests.sdk.stubs.with_feedback`` serves it in
front of the real router, knowing only the request ids the router really issued.
"""

from __future__ import annotations

import pytest
from pydantic import ValidationError

import paretoroute as pr
from tests.sdk.stubs import FeedbackStore

HI = [{"role": "user", "content": "Say hello."}]


def test_feedback_on_a_served_request(client: pr.Client, feedback_store: FeedbackStore):
    served = client.chat(HI, profile="cheap")
    request_id = served.routing.request_id
    assert request_id
    first = client.feedback(request_id, thumbs="up", comment="short and right")
    assert (first.object, first.request_id, first.updated) == ("feedback", request_id, False)
    assert first.model == served.routing.model
    again = client.feedback(request_id, score=0.25)
    assert again.updated is True
    if feedback_store.feedback:  # the stub answered: it stored what the SDK sent
        assert feedback_store.feedback[request_id].score == 0.25


async def test_feedback_async_label(async_client: pr.AsyncClient):
    served = await async_client.chat(HI)
    request_id = served.routing.request_id or ""
    result = await async_client.feedback(request_id, label="wrong-language")
    assert (result.request_id, result.model, result.updated) == (
        request_id,
        served.routing.model,
        False,
    )


def test_unknown_request_id_is_not_found(client: pr.Client):
    with pytest.raises(pr.NotFoundError) as caught:
        client.feedback("pr-00000000000000000000000000000000", thumbs="down")
    assert (caught.value.status_code, caught.value.code) == (404, "request_not_found")


@pytest.mark.parametrize(
    "fields",
    [
        {},
        {"score": 0.5, "thumbs": "up"},
        {"score": 1.5},
        {"thumbs": "sideways"},
        {"label": "x" * 65},
        {"label": "ok", "comment": "x" * 2001},
    ],
)
def test_bad_feedback_rejected_before_sending(client: pr.Client, fields):
    with pytest.raises(ValidationError):
        client.feedback("pr-1", **fields)


def test_server_validates_too(router_url: str, client: pr.Client):
    # What the SDK refuses, the server refuses as well (400), so raw callers are safe.
    import httpx

    request_id = client.chat(HI).routing.request_id
    answer = httpx.post(
        router_url + "/v1/feedback", json={"request_id": request_id, "score": 2}, timeout=10
    )
    assert answer.status_code == 400
    assert answer.json()["error"]["type"] == "invalid_request_error"
