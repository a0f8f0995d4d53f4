"""Capturing one generation request for the log, around the app, at almost no cost.

``RequestLogMiddleware`` wraps ``/v1/chat/completions`` and ``/v1/completions``: it keeps
references to the request and response bytes, the status, four timestamps and the
routing ``Plan`` (attached by the handler with ``remember_plan``), and hands the
``Capture`` to the request log when the response is done (for a stream: its last chunk).
Nothing is parsed here; the writer thread does that. Responses without the
``x-paretoroute-request-id`` header (errors) get one, so every logged row can be named.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from router.request_ids import new_request_id

if TYPE_CHECKING:
    from router.planning import Plan

LOGGED_PATHS = {"/v1/chat/completions": "chat", "/v1/completions": "text"}
REQUEST_ID_HEADER = b"x-paretoroute-request-id"
_STATE_KEY = "paretoroute.request_log.capture"


@dataclass(slots=True)
class Capture:
    """One request as it happened. Filled by the middleware, read by the writer thread."""

    endpoint: str
    created: float  # ``time.time()``; the writer makes the datetime, off the event loop
    started: float
    request_body: list[bytes] = field(default_factory=list)
    response_body: list[bytes] = field(default_factory=list)
    plan: Plan | None = None
    planned_at: float | None = None
    status_code: int = 0
    request_id: str | None = None
    response_started: float | None = None
    finished: float | None = None
    raised: bool = False

    def on_response_start(self, message: Message) -> Message:
        """Note the status; name the request in error responses that lack the header."""
        self.status_code = int(message["status"])
        self.response_started = time.perf_counter()
        if self.plan is not None and self.status_code < 400:
            self.request_id = self.plan.request_id
            return message
        self.request_id = self.plan.request_id if self.plan else new_request_id()
        headers = [*message.get("headers", []), (REQUEST_ID_HEADER, self.request_id.encode())]
        return {**message, "headers": headers}

    def on_response_body(self, message: Message) -> None:
        """Keep the chunk; the last one marks the end of the response."""
        self.response_body.append(message.get("body", b""))
        if not message.get("more_body", False):
            self.finished = time.perf_counter()


def remember_plan(request: Request, plan: Plan) -> None:
    """Attach the routing plan to the request's capture (a no-op when the log is off)."""
    capture = request.scope.get("state", {}).get(_STATE_KEY)
    if capture is not None:
        capture.plan = plan
        capture.planned_at = time.perf_counter()


class CaptureSink(Protocol):
    """Where finished captures go (``RequestLog``)."""

    def submit(self, capture: Capture) -> None:
        """Take one finished capture without blocking."""
        ...


def _sink(scope: Scope) -> CaptureSink | None:
    services = getattr(scope["app"].state, "services", None)
    return getattr(services, "request_log", None)


class RequestLogMiddleware:
    """Pure ASGI middleware feeding generation requests to the request log."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        endpoint = LOGGED_PATHS.get(scope.get("path", "")) if scope["type"] == "http" else None
        sink = _sink(scope) if endpoint and scope["method"] == "POST" else None
        if endpoint is None or sink is None:
            await self.app(scope, receive, send)
            return
        capture = Capture(endpoint, time.time(), time.perf_counter())
        scope.setdefault("state", {})[_STATE_KEY] = capture

        async def recording_receive() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                capture.request_body.append(message.get("body", b""))
            return message

        async def recording_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = capture.on_response_start(message)
            elif message["type"] == "http.response.body":
                capture.on_response_body(message)
            await send(message)

        try:
            await self.app(scope, recording_receive, recording_send)
        except BaseException:
            capture.raised = True
            raise
        finally:
            sink.submit(capture)
