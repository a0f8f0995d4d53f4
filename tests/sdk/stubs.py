"""Loopback stand-ins for what the router cannot produce (yet), served over real HTTP.

* ``scripted_app`` answers every request with the next scripted reply (401, 429 with
  ``retry-after``, ...) and records each hit, so tests count retries.
* ``with_feedback`` puts ``POST /v1/feedback`` (the COMMON.md contract) in front of a
  router app that does not serve it yet; it learns request ids from the router's own
  ``x-paretoroute-request-id`` headers. When the wrapped app has the route, the real
  endpoint answers and the stub stays out of the way.
* ``BreaksMidStream`` is an upstream that sends one chunk, then fails.
* ``isolated_settings`` keeps the router's data dir (request log, feedback) out of the
  checkout.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import orjson
import pytest
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from router.errors import UpstreamError
from router.settings import Settings
from router.upstream.base import ChunkBatch, Endpoint, Payload, UpstreamTarget


@dataclass(frozen=True)
class Reply:
    """One scripted answer."""

    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Script:
    """Replies served in order (the last one repeats) and the requests seen."""

    replies: list[Reply]
    hits: list[tuple[str, str]] = field(default_factory=list)


def error_body(message: str, kind: str, code: str | None = None) -> dict[str, Any]:
    return {"error": {"message": message, "type": kind, "param": None, "code": code}}


def scripted_app(script: Script) -> Starlette:
    async def answer(request: Request) -> Response:
        script.hits.append((request.method, request.url.path))
        reply = script.replies[min(len(script.hits), len(script.replies)) - 1]
        return Response(orjson.dumps(reply.body), reply.status, reply.headers, "application/json")

    return Starlette(routes=[Route("/{path:path}", answer, methods=["GET", "POST"])])


class FeedbackBody(BaseModel):
    """The contract's body (COMMON.md)."""

    model_config = ConfigDict(extra="forbid")

    request_id: str
    score: float | None = Field(default=None, ge=0, le=1)
    thumbs: Literal["up", "down"] | None = None
    label: str | None = Field(default=None, max_length=64)
    comment: str | None = Field(default=None, max_length=2000)

    @model_validator(mode="after")
    def _one(self) -> FeedbackBody:
        if sum(v is not None for v in (self.score, self.thumbs, self.label)) != 1:
            raise ValueError("exactly one of score, thumbs or label")
        return self


@dataclass
class FeedbackStore:
    served: dict[str, str] = field(default_factory=dict)
    feedback: dict[str, FeedbackBody] = field(default_factory=dict)


def _json(body: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(body), status, media_type="application/json")


async def _feedback(request: Request, store: FeedbackStore) -> Response:
    try:
        body = FeedbackBody.model_validate_json(await request.body())
    except ValidationError as error:
        first = error.errors()[0]
        param = ".".join(str(p) for p in first["loc"]) or None
        detail = error_body(f"Invalid feedback: {first['msg']}", "invalid_request_error")
        detail["error"]["param"] = param
        return _json(detail, 400)
    if body.request_id not in store.served:
        message = f"No request with id {body.request_id!r}."
        return _json(error_body(message, "invalid_request_error", "request_not_found"), 404)
    updated = body.request_id in store.feedback
    store.feedback[body.request_id] = body
    model = store.served[body.request_id]
    return _json(
        {"object": "feedback", "request_id": body.request_id, "model": model, "updated": updated}
    )


def _serves_feedback(app: Any) -> bool:
    return any(
        getattr(route, "path", None) == "/v1/feedback" for route in getattr(app, "routes", [])
    )


def with_feedback(app: Any, store: FeedbackStore) -> ASGIApp:
    """``app`` plus the feedback stub (unless ``app`` already serves ``/v1/feedback``)."""
    if _serves_feedback(app):
        return app  # type: ignore[no-any-return]

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == "/v1/feedback":
            response = await _feedback(Request(scope, receive), store)
            await response(scope, receive, send)
            return

        async def remember(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = {k.decode(): v.decode() for k, v in message.get("headers", [])}
                if "x-paretoroute-request-id" in headers and "x-paretoroute-model" in headers:
                    store.served[headers["x-paretoroute-request-id"]] = headers[
                        "x-paretoroute-model"
                    ]
            await send(message)

        await app(scope, receive, remember)

    return wrapped


class BreaksMidStream:
    """An ``Upstream`` that streams one chunk, then raises ``error``."""

    def __init__(self, error: UpstreamError) -> None:
        self.error = error

    async def complete(self, target: UpstreamTarget, endpoint: Endpoint, body: Payload) -> Payload:
        raise self.error

    async def stream(
        self, target: UpstreamTarget, endpoint: Endpoint, body: Payload
    ) -> AsyncIterator[ChunkBatch]:
        yield [
            {
                "id": "chunk-1",
                "object": "chat.completion.chunk",
                "created": 1,
                "model": target.model,
                "choices": [{"index": 0, "delta": {"role": "assistant", "content": "Hel"}}],
            }
        ]
        raise self.error

    async def aclose(self) -> None:
        return None


def isolated_settings(data_dir: Path, **fields: Any) -> Settings:
    """Settings whose data dir (request log, feedback database) is a temp dir, not the checkout."""
    with pytest.MonkeyPatch.context() as env:
        env.setenv("PARETOROUTE_DATA_DIR", str(data_dir))
        return Settings(**fields)
