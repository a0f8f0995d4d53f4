"""``CallerGuard``: pure-ASGI middleware that authenticates and limits callers.

For the guarded paths it answers 401 (no/wrong key) before reading the body, counts the
request against request/token/parallel limits (429 + ``retry-after``), applies a key's
allowed models and profiles to the body (403, or the ``auto`` pool narrowed), makes the
request's account current for the rest of the path, and settles it (realized cost,
tokens, parallel slot), issuing the charges before the response's last byte is sent so a
caller's next request sees them without waiting on them.
"""

from __future__ import annotations

import asyncio
import json
import os
from typing import Any

import orjson
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from router.auth.allowlist import restrict
from router.auth.context import RequestAccount, bind, unbind
from router.auth.keys import KeyLimits
from router.edge import error_response
from router.errors import InvalidRequestError, RouterError

#: Guarded path → True for generation (budgets, tokens, parallel slots), False for
#: decision-only (/v1/route: request limits), None for authentication only.
GUARDED: dict[str, bool | None] = {
    "/v1/chat/completions": True,
    "/v1/completions": True,
    "/v1/route": False,
    "/v1/models": None,
}


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _parse(raw: bytes) -> dict[str, Any] | None:
    """The JSON object, or None when it is not one (the app then answers the 400)."""
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        try:
            body = json.loads(raw)
        except ValueError:
            return None
    return body if isinstance(body, dict) else None


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay


async def _restricted(scope: Scope, receive: Receive, services: Any, limits: KeyLimits) -> Receive:
    """Apply the key's model/profile lists; returns the receive that replays the body."""
    raw = await _read_body(receive)
    body = _parse(raw)
    if body is None:
        if raw.strip():
            raise InvalidRequestError("The request body is not a JSON object.", code="invalid_json")
        body = {}
    try:
        changed = restrict(body, limits, services.catalog, Headers(scope=scope))
    except RouterError as error:
        if error.status_code == 403:
            services.metrics.auth_failures.labels("model").inc()
        raise
    if changed:
        raw = orjson.dumps(body)
        headers = [(k, v) for k, v in scope["headers"] if k != b"content-length"]
        scope["headers"] = [*headers, (b"content-length", str(len(raw)).encode())]
    return _replay(raw, receive)


def _restricts(limits: KeyLimits) -> bool:
    return limits.allowed_models is not None or limits.allowed_profiles is not None


async def _admit(
    scope: Scope, receive: Receive, services: Any, kind: bool | None
) -> tuple[RequestAccount, Receive]:
    """Authenticate, count and (for a restricted key) rewrite; raise a RouterError to refuse."""
    callers = services.callers
    caller = await callers.authenticator.authenticate(Headers(scope=scope))
    account = RequestAccount(caller, os.urandom(12).hex())
    if kind is None:
        return account, receive
    await callers.limits.admit(account, generation=kind)
    try:
        if caller.key is not None and _restricts(caller.key.limits):
            receive = await _restricted(scope, receive, services, caller.key.limits)
    except BaseException:
        await asyncio.shield(callers.limits.settle(account))
        raise
    return account, receive


class CallerGuard:
    """See the module docstring; a no-op for paths it does not guard."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        guarded = scope["type"] == "http" and scope["path"] in GUARDED and "app" in scope
        services = getattr(scope["app"].state, "services", None) if guarded else None
        if services is None:
            await self.app(scope, receive, send)
            return
        try:
            account, receive = await _admit(scope, receive, services, GUARDED[scope["path"]])
        except RouterError as error:
            await error_response(error, Request(scope))(scope, receive, send)
            return
        token = bind(account)
        settling: asyncio.Future[None] | None = None

        def settle() -> asyncio.Future[None]:
            nonlocal settling
            if settling is None:
                settling = asyncio.ensure_future(services.callers.limits.settle(account))
            return settling

        async def settling_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                account.status = int(message["status"])
            elif message["type"] == "http.response.body" and not message.get("more_body"):
                # Issue the charges before the last byte leaves: this process's next
                # Redis call queues behind them, so the caller's next request sees them.
                settle()
            await send(message)

        try:
            await self.app(scope, receive, settling_send)
        finally:
            unbind(token)
            await asyncio.shield(settle())
