"""The server's own limits, whoever the caller: read timeouts and a concurrency cap.

- ``BodyReadTimeout`` (pure ASGI): the whole body must arrive within ``timeout_s`` of
  the request's start, or the request is answered 408 and the connection closed. A body
  trickled one byte every two seconds is cut off at the deadline.
- ``ConcurrencyLimit`` (pure ASGI): beyond ``max_requests`` requests in flight
  (streams count until they end), 503 ``server_overloaded`` with ``retry-after``.
  Health, readiness and metrics stay reachable.
- ``HeaderTimeoutProtocol``: uvicorn's httptools protocol with a deadline for the
  request line and headers (uvicorn has none of its own; its keep-alive timeout only
  covers idle connections between requests). ``paretoroute serve`` runs it with each
  response's head written with its body (``router.head_write.server_protocol``).
"""

from __future__ import annotations

import asyncio
from typing import Any

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from router.edge import EdgeHTTPException, answer_unless_started, edge_error, error_response
from router.errors import OverloadedError, RequestTimeoutError

UNCAPPED_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})


class BodyTimeoutError(EdgeHTTPException):
    """Raised from ``receive`` at the body deadline."""

    def __init__(self, timeout_s: float) -> None:
        super().__init__(
            RequestTimeoutError(
                f"The request body did not arrive within {timeout_s:g} seconds.", param=None
            )
        )


def _metrics(scope: Scope) -> Any:
    services = getattr(scope["app"].state, "services", None) if "app" in scope else None
    return services.metrics if services is not None else None


class BodyReadTimeout:
    """408 when the body is not complete ``timeout_s`` after the request started."""

    def __init__(self, app: ASGIApp, timeout_s: float) -> None:
        self.app = app
        self.timeout_s = timeout_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        deadline = asyncio.get_running_loop().time() + self.timeout_s
        complete = False

        async def timed_receive() -> Message:
            nonlocal complete
            if complete:
                return await receive()
            try:
                async with asyncio.timeout_at(deadline):
                    message = await receive()
            except TimeoutError:
                metrics = _metrics(scope)
                if metrics is not None:
                    metrics.read_timeouts.inc()
                raise BodyTimeoutError(self.timeout_s) from None
            complete = message["type"] != "http.request" or not message.get("more_body", False)
            return message

        await answer_unless_started(
            self.app, scope, receive, send, timed_receive, BodyTimeoutError, edge_error
        )


class ConcurrencyLimit:
    """503 + ``retry-after`` beyond ``max_requests`` requests in flight (None = no cap)."""

    def __init__(self, app: ASGIApp, max_requests: int | None) -> None:
        self.app = app
        self.max_requests = max_requests
        self.in_flight = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.max_requests is None or scope["path"] in UNCAPPED_PATHS:
            await self.app(scope, receive, send)
            return
        if self.in_flight >= self.max_requests:
            metrics = _metrics(scope)
            if metrics is not None:
                metrics.concurrency_rejections.inc()
            error = OverloadedError(
                f"The router is at its limit of {self.max_requests} concurrent requests.",
                retry_after_s=1.0,
            )
            await error_response(error, Request(scope))(scope, receive, send)
            return
        self.in_flight += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.in_flight -= 1


class HeaderTimeoutProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol that closes a connection whose request line and
    headers take longer than ``header_timeout_s`` (from the connection or from the
    request's first byte)."""

    def __init__(self, *args: Any, header_timeout_s: float = 10.0, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._header_timeout_s = header_timeout_s
        self._header_timer: asyncio.TimerHandle | None = None

    def _arm(self) -> None:
        if self._header_timer is None:
            self._header_timer = self.loop.call_later(self._header_timeout_s, self._headers_late)

    def _disarm(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _headers_late(self) -> None:
        self._header_timer = None
        if not self.transport.is_closing():
            self.transport.close()

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._arm()

    def on_headers_complete(self) -> None:
        self._disarm()
        super().on_headers_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)
