"""The generation endpoints without FastAPI's per-request machinery.

For ``chat_completions(request, body)`` FastAPI searches its routes, solves the
endpoint's dependencies, reads, decodes and validates the body. Through the whole app
(every middleware, in a loop, caches warm) a request took 236-298 µs of CPU to reach the
endpoint, against 132-183 µs with the route below (``bench/fast_routes.py``); that runs
on the event loop for every generation request.

``GenerationRoute`` is a plain Starlette route put ahead of the API's routes
(``add_fast_routes``). It reads the body, decodes it with ``json.loads`` and validates it
with the endpoint's model, as FastAPI does (python mode, ``from_attributes``), then calls
the same ``generate``. A request it does not take as it is (no content type or another
one, a body that does not decode or fails validation) goes on to FastAPI's route with its
body replayed, so every error is FastAPI's own, answered by the same handlers. Errors
raised while serving reach the same exception handlers too: the route sits inside the
app's exception middleware. The FastAPI routes stay for the OpenAPI schema and that
fallback.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match, Route
from starlette.types import Message, Receive, Scope, Send

from router.api.generation import generate
from router.schemas import ChatCompletionRequest, CompletionRequest
from router.upstream.base import Endpoint

#: Set in the scope of a request this route passed on, so the route search skips it.
DECLINED = "paretoroute.fast_route_declined"
_JSON = "application/json"


def _is_json(content_type: str | None) -> bool:
    """``application/json``, with or without parameters (anything else, or no content type
    at all: FastAPI decides)."""
    return content_type is not None and content_type.partition(";")[0].strip().lower() == _JSON


def _replay(body: bytes, receive: Receive) -> Receive:
    """``receive`` that first hands out the body already read, then goes on as before."""
    pending: list[Message] = [{"type": "http.request", "body": body, "more_body": False}]

    async def replayed() -> Message:
        return pending.pop() if pending else await receive()

    return replayed


class GenerationRoute(Route):
    """``POST path`` served by ``generate`` with a body validated by ``model``."""

    def __init__(self, path: str, endpoint: Endpoint, model: type[BaseModel]) -> None:
        name = f"{endpoint}_fast_route"
        super().__init__(path, generate, methods=["POST"], name=name, include_in_schema=False)
        self.endpoint_kind: Endpoint = endpoint
        self.model = model
        self.app = self.serve  # raw ASGI: not Starlette's request/response wrapper of generate

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if DECLINED in scope:
            return Match.NONE, {}
        return super().matches(scope)

    def parse(self, content_type: str | None, body: bytes) -> Any:
        """The validated body, or ``None`` to leave the request to FastAPI."""
        if not body or not _is_json(content_type):
            return None
        try:
            return self.model.model_validate(json.loads(body), from_attributes=True)
        except ValueError:  # json's decode errors and pydantic's ValidationError
            return None

    async def serve(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive, send)
        try:
            body = await request.body()
        except StarletteHTTPException:  # e.g. the body deadline: its own answer
            raise
        except Exception as error:  # as FastAPI's route answers any other failed read
            raise HTTPException(400, "There was an error parsing the body") from error
        parsed = self.parse(request.headers.get("content-type"), body)
        if parsed is None:
            scope[DECLINED] = True
            await scope["router"](scope, _replay(body, receive), send)
            return
        response = await generate(request, parsed, self.endpoint_kind)
        await response(scope, receive, send)


def add_fast_routes(app: FastAPI) -> None:
    """Put a ``GenerationRoute`` for chat and text completions ahead of every route."""
    routes = [
        GenerationRoute("/v1/chat/completions", "chat", ChatCompletionRequest),
        GenerationRoute("/v1/completions", "text", CompletionRequest),
    ]
    app.router.routes[:0] = routes
