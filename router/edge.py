"""The HTTP edge: body-size limit and the one place errors become responses."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from router.errors import InvalidRequestError, PayloadTooLargeError, RouterError
from router.observe import count_error, note_requested_model, watch_of

logger = logging.getLogger(__name__)


def error_response(error: RouterError, request: Request | None = None) -> Response:
    """Render any ``RouterError`` in OpenAI's shape (and count it, given the request)."""
    services = getattr(request.app.state, "services", None) if request is not None else None
    if request is not None and services is not None:
        watch = watch_of(request)
        count_error(services.metrics, error, watch.model if watch else "")
    return Response(
        orjson.dumps(error.to_body()),
        status_code=error.status_code,
        media_type="application/json",
        headers=error.headers(),
    )


def _param(loc: tuple[Any, ...]) -> str | None:
    parts = [str(p) for p in loc if p != "body"]
    if not parts:
        return None
    text = parts[0]
    for part in parts[1:]:
        text += f"[{part}]" if part.isdigit() else f".{part}"
    return text


def validation_error(exc: RequestValidationError) -> InvalidRequestError:
    """The first validation problem as an OpenAI ``invalid_request_error``."""
    errors = exc.errors()
    first: dict[str, Any] = (
        dict(errors[0]) if errors else {"loc": (), "msg": "invalid request", "type": ""}
    )
    param = _param(tuple(first.get("loc", ())))
    kind = first.get("type", "")
    if kind == "json_invalid":
        return InvalidRequestError(
            "We could not parse the JSON body of your request: "
            f"{first.get('ctx', {}).get('error', 'invalid JSON')}",
            param=None,
            code="invalid_json",
        )
    if kind == "missing":
        message = f"Missing required parameter: {param!r}."
    elif kind == "extra_forbidden":
        message = f"Unrecognized request argument supplied: {param!r}."
    else:
        message = f"Invalid value for {param!r}: {first.get('msg')}."
    return InvalidRequestError(message, param=param)


def install_error_handlers(app: FastAPI) -> None:
    """Map every failure, expected or not, to an OpenAI-shaped body; never a traceback."""

    async def on_router_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RouterError)
        return error_response(exc, request)

    async def on_validation(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        note_requested_model(request, exc.body)
        return error_response(validation_error(exc), request)

    async def on_http(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        if isinstance(exc, EdgeHTTPException):
            return error_response(exc.error, request)
        error = InvalidRequestError(str(exc.detail), code=f"http_{exc.status_code}")
        response = error_response(error, request)
        response.status_code = exc.status_code
        return response

    async def on_unexpected(request: Request, exc: Exception) -> Response:
        logger.exception("unhandled error on %s %s", request.method, request.url.path)
        return error_response(_internal(), request)

    app.add_exception_handler(RouterError, on_router_error)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(Exception, on_unexpected)


def _internal() -> RouterError:
    return RouterError("The server had an internal error.", code="internal")


async def answer_unless_started(
    app: ASGIApp,
    scope: Scope,
    receive: Receive,
    send: Send,
    app_receive: Receive,
    catch: type[Exception],
    to_error: Callable[[Exception], RouterError],
) -> None:
    """Run ``app`` reading from ``app_receive``; an exception of type ``catch`` raised
    before the response started is answered with ``to_error(exc)`` in OpenAI's shape
    (after it started, the response is already on its way and nothing more is sent;
    ``to_error`` is called either way, so it may log).

    The one mechanism behind ``UnhandledErrors``, ``BodySizeLimit`` and the body-read
    deadline (``router.limits.server.BodyReadTimeout``).
    """
    started = False

    async def tracking_send(message: Message) -> None:
        nonlocal started
        started = started or message["type"] == "http.response.start"
        await send(message)

    try:
        await app(scope, app_receive, tracking_send)
    except catch as exc:
        error = to_error(exc)  # always: it may log
        if not started:
            await error_response(error, Request(scope))(scope, receive, send)


def edge_error(exc: Exception) -> RouterError:
    assert isinstance(exc, EdgeHTTPException)
    return exc.error


class UnhandledErrors:
    """Pure ASGI middleware: an unexpected exception becomes a 500 body, and stays here.

    Starlette's own last-resort handler re-raises after answering, and uvicorn then
    drops the keep-alive connection; catching here keeps the connection usable.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        def logged(exc: Exception) -> RouterError:
            logger.error("unhandled error on %s %s", scope["method"], scope["path"], exc_info=exc)
            return _internal()

        await answer_unless_started(self.app, scope, receive, send, receive, Exception, logged)


class BodySizeLimit:
    """Pure ASGI middleware: 413 for bodies over ``max_bytes`` (declared or streamed)."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    def _too_large(self) -> PayloadTooLargeError:
        return PayloadTooLargeError(
            f"Request body exceeds the limit of {self.max_bytes} bytes.", param=None
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD"):
            await self.app(scope, receive, send)
            return
        for name, value in scope["headers"]:
            if name == b"content-length" and value.isdigit() and int(value) > self.max_bytes:
                await error_response(self._too_large(), Request(scope))(scope, receive, send)
                return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLarge(self._too_large())
            return message

        await answer_unless_started(
            self.app, scope, receive, send, limited_receive, BodyTooLarge, edge_error
        )


class EdgeHTTPException(StarletteHTTPException):
    """A ``RouterError`` raised from a middleware's ``receive`` (FastAPI lets HTTP
    exceptions through its body reading; the handler renders ``error``)."""

    def __init__(self, error: RouterError) -> None:
        super().__init__(status_code=error.status_code, detail=error.message)
        self.error = error


class BodyTooLarge(EdgeHTTPException):
    """Raised while reading a body past the limit."""
