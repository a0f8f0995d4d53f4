"""The generation endpoints' fast routes: valid requests are served by them, and every
request, valid or not, gets the answer FastAPI's own routes give (same status, same
body apart from ids and timings, same error fields), on live servers."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from predictors.prior import PriorScorer
from router.api.fast_routes import DECLINED, GenerationRoute
from router.app import create_app
from router.catalog import Catalog
from router.settings import Settings
from tests.router.servers import live_server

JSON = {"content-type": "application/json"}
HELLO = [{"role": "user", "content": "hello"}]
CHAT, TEXT = "/v1/chat/completions", "/v1/completions"
UTF8 = {"content-type": "application/json; charset=utf-8"}
HI = b'"messages": [{"role": "user", "content": "hi"}]'
F, D = "fast", "declined"
#: (path, raw body, headers, which route serves it): good requests and every kind of bad
#: one. A body the model accepts is served fast even when the answer is an error (an
#: unknown model, an integer too large to forward); the rest go to FastAPI's route.
CASES: list[tuple[str, bytes, dict[str, str], str]] = [
    (CHAT, b'{"model": "auto", ' + HI + b"}", JSON, F),
    (CHAT, b'{"model": "gpt-3.5-turbo-1106", "max_tokens": 5, ' + HI + b"}", JSON, F),
    (CHAT, b'{"model": "auto", ' + HI + b"}", {}, D),
    (CHAT, b'{"model": "auto", ' + HI + b"}", UTF8, F),
    (CHAT, b'{"model": "auto", ' + HI + b"}", {"content-type": "application/vnd.api+json"}, D),
    (CHAT, b'{"model": "auto", ' + HI + b"}", {"content-type": "text/plain"}, D),
    (CHAT, b'{"model": "auto", "messages": [', JSON, D),
    (CHAT, b"", JSON, D),
    (CHAT, b"[]", JSON, D),
    (CHAT, b'"text"', JSON, D),
    (CHAT, b'{"model": "auto"}', JSON, D),
    (CHAT, b'{"model": "auto", "messages": []}', JSON, D),
    (CHAT, b'{"messages": [{"role": "wizard", "content": "x"}]}', JSON, D),
    (CHAT, b'{"temperature": "hot", ' + HI + b"}", JSON, D),
    (CHAT, b'{"temperature": NaN, ' + HI + b"}", JSON, D),
    (CHAT, b'{"max_tokens": 123456789012345678901234567890, ' + HI + b"}", JSON, F),
    (CHAT, b'{"logit_bias": {"1": 1180591620717411303424}, ' + HI + b"}", JSON, F),
    (CHAT, b'{"messages": [{"role": "user", "content": "\\ud800 lone"}]}', JSON, F),
    (CHAT, b'{"model": "no-such-model", ' + HI + b"}", JSON, F),
    (CHAT, b'{"stream": true, ' + HI + b"}", JSON, F),
    (TEXT, b'{"model": "auto", "prompt": "Say hi"}', JSON, F),
    (TEXT, b'{"model": "auto"}', JSON, D),
    (TEXT, b'{"model": "auto", "prompt": 7}', JSON, D),
]  # fmt: skip
#: Fields that differ between any two answers (ids, clocks, measured times).
VOLATILE = {
    "id", "created", "date", "x-request-id", "x-paretoroute-request-id",
    "x-paretoroute-decision-ms",
}  # fmt: skip


def _app(catalog: Catalog, fast: bool) -> Any:
    app = create_app(Settings(), catalog=catalog, scorer=PriorScorer())
    if not fast:
        app.router.routes[:] = [r for r in app.router.routes if not isinstance(r, GenerationRoute)]
    return app


@pytest.fixture(scope="module")
def servers(catalog: Catalog) -> Iterator[tuple[str, str, list[str]]]:
    """(fast router URL, FastAPI-only router URL, how each fast request was served)."""
    fast_app, slow_app = _app(catalog, True), _app(catalog, False)
    served: list[str] = []
    for route in fast_app.router.routes:
        if isinstance(route, GenerationRoute):
            route.app = _recording(route.app, served)
    with live_server(fast_app) as fast, live_server(slow_app) as slow:
        yield fast, slow, served


def _recording(app: Any, served: list[str]) -> Any:
    async def recorded(scope: Any, receive: Any, send: Any) -> None:
        try:
            await app(scope, receive, send)
        finally:  # an error raised while serving still counts as served here
            served.append("declined" if DECLINED in scope else "fast")

    return recorded


def _comparable(response: httpx.Response) -> tuple[int, Any, dict[str, str]]:
    headers = {k: v for k, v in response.headers.items() if k not in VOLATILE}
    headers.pop("content-length", None)  # ids and timings change the length
    if not response.headers.get("content-type", "").startswith("application/json"):
        return response.status_code, response.text.count("data:"), headers
    body = response.json()
    if isinstance(body, dict):
        body = {k: v for k, v in body.items() if k not in VOLATILE}
    return response.status_code, body, headers


def test_fast_and_fastapi_routes_answer_alike(servers: tuple[str, str, list[str]]) -> None:
    fast, slow, served = servers
    for path, body, headers, route in CASES:
        served.clear()
        answers = [
            httpx.post(url + path, content=body, headers=headers, timeout=10)
            for url in (fast, slow)
        ]
        assert _comparable(answers[0]) == _comparable(answers[1]), (path, body, headers)
        assert served == [route], (path, body, headers)


def test_a_valid_request_never_reaches_fastapi_s_route(servers: tuple[str, str, list[str]]) -> None:
    fast, _, served = servers
    served.clear()
    for _ in range(5):
        response = httpx.post(
            fast + "/v1/chat/completions", json={"model": "auto", "messages": HELLO}, timeout=10
        )
        assert response.status_code == 200
    assert served == ["fast"] * 5


def test_routes_docs_and_methods_are_unchanged(servers: tuple[str, str, list[str]]) -> None:
    fast, slow, _ = servers
    schemas = [httpx.get(url + "/openapi.json", timeout=10).json() for url in (fast, slow)]
    assert schemas[0] == schemas[1]
    assert "/v1/chat/completions" in schemas[0]["paths"]
    for url in (fast, slow):
        wrong = httpx.get(url + "/v1/chat/completions", timeout=10)
        assert wrong.status_code == 405
    assert _comparable(httpx.get(fast + "/v1/chat/completions")) == _comparable(
        httpx.get(slow + "/v1/chat/completions")
    )
