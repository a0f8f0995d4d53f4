"""Input JSON can carry but the upstream request cannot: each a 400 naming the field.

Also: an unexpected server error answers 500 and keeps the keep-alive connection.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI

from predictors.prior import PriorScorer
from router.app import create_app
from router.catalog import Catalog
from router.settings import Settings
from tests.router.servers import FakeUpstreamState, live_server

HUGE = str(2**70)
MESSAGES = '[{"role": "user", "content": "hi"}]'


def raw_post(url: str, body: str) -> httpx.Response:
    return httpx.post(
        url + "/v1/chat/completions",
        content=body.encode("utf-8", "surrogatepass"),
        headers={"content-type": "application/json"},
    )


@pytest.mark.parametrize(
    ("fields", "param"),
    [
        (f'"seed": {HUGE}', "seed"),
        (f'"max_tokens": {HUGE}', "max_tokens"),
        (f'"logprobs": {HUGE}', "logprobs"),
        (f'"top_logprobs": -{HUGE}', "top_logprobs"),
        (f'"logit_bias": {{"50256": {HUGE}}}', "logit_bias.50256"),
        (f'"metadata": {{"k": [1, {HUGE}]}}', "metadata.k[1]"),
        ('"max_tokens": 1e309', "max_tokens"),
        ('"logprobs": Infinity', "logprobs"),
        ('"stop": ["\\ud800"]', "stop[0]"),
    ],
)
def test_unencodable_fields_are_400(router_url: str, fields: str, param: str, upstream_state):
    response = raw_post(router_url, f'{{"model": "auto", "messages": {MESSAGES}, {fields}}}')
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["param"] == param and error["type"] == "invalid_request_error"
    assert upstream_state.requests == []


def test_lone_surrogate_in_prompt_is_400(router_url: str, upstream_state):
    body = '{"messages": [{"role": "user", "content": "hi \\udc00 there"}]}'
    response = raw_post(router_url, body)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["param"] == "messages[0].content"
    assert upstream_state.requests == []


def test_huge_integer_in_a_dropped_unknown_field_is_harmless(
    catalog: Catalog, upstream_state: FakeUpstreamState
):
    app = create_app(Settings(unknown_fields="drop"), catalog=catalog, scorer=PriorScorer())
    with live_server(app) as url:
        response = raw_post(url, f'{{"messages": {MESSAGES}, "colour": {HUGE}}}')
    assert response.status_code == 200, response.text
    assert response.headers["x-paretoroute-dropped-fields"] == "colour"


@pytest.fixture(scope="module")
def exploding_url(catalog: Catalog) -> Iterator[str]:
    app: FastAPI = create_app(Settings(), catalog=catalog, scorer=PriorScorer())

    async def explode() -> None:
        raise RuntimeError("a bug")

    app.add_api_route("/explode", explode, methods=["GET"])
    with live_server(app) as url:
        yield url


def _read_response(sock: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        data += sock.recv(65536)
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":")[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length")
    )
    while len(body) < length:
        body += sock.recv(65536)
    return head + b"\r\n\r\n" + body


def test_500_answers_and_keeps_the_connection(exploding_url: str):
    host, port = exploding_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(b"GET /explode HTTP/1.1\r\nhost: x\r\n\r\n")
        first = _read_response(sock)
        assert first.startswith(b"HTTP/1.1 500")
        assert b'"code":"internal"' in first and b"a bug" not in first
        sock.sendall(b"GET /v1/models HTTP/1.1\r\nhost: x\r\n\r\n")
        second = _read_response(sock)
    assert second.startswith(b"HTTP/1.1 200"), "the connection was dropped after the 500"
