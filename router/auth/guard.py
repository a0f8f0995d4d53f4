"""``CallerGuard``: pure-ASGI middleware that authenticates and limits callers.

For the guarded paths it answers 401 (no/wrong key) before reading the body, counts the
request against request/token/parallel limits (429 + ``retry-after``; against Redis a
generation request's checks wait to leave with its budget hold, one round trip, see
``router.auth.enforce``), makes the request's account current for the rest of the path
(the planner reads it to apply a key's allowed models and profiles:
``router.auth.allowlist``), and settles it (realized cost, tokens, parallel slot),
issuing the charges before the response's last byte is sent so a caller's next request
sees them, without the response waiting on them.
"""

from __future__ import annotations

import os
from typing import Any

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from router.auth.context import RequestAccount, bind, unbind
from router.edge import error_response
from router.errors import RouterError

#: Guarded path → True for generation (budgets, tokens, parallel slots), False for
#: decision-only (/v1/route: request limits), None for authentication only.
GUARDED: dict[str, bool | None] = {
    "/v1/chat/completions": True,
    "/v1/completions": True,
    "/v1/route": False,
    "/v1/models": None,
}


async def _admit(scope: Scope, services: Any, kind: bool | None) -> RequestAccount:
    """Authenticate and count; raise a RouterError to refuse."""
    callers = services.callers
    caller = await callers.authenticator.authenticate(Headers(scope=scope))
    account = RequestAccount(caller, os.urandom(12).hex())
    if kind is not None:
        await callers.limits.admit(account, generation=kind)
    return account


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
            account = await _admit(scope, services, GUARDED[scope["path"]])
        except RouterError as error:
            await error_response(error, Request(scope))(scope, receive, send)
            return
        token = bind(account)
        limits, settled = services.callers.limits, False

        def settle() -> None:
            nonlocal settled
            if not settled:
                settled = True
                limits.settle_soon(account)

        async def settling_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                account.status = int(message["status"])
                if account.status == 403:  # the planner applied the key's lists
                    services.metrics.auth_failures.labels("model").inc()
            elif message["type"] == "http.response.body" and not message.get("more_body"):
                # Issue the charges before the last byte leaves: this process's next
                # backend call queues behind them, so the caller's next request sees them.
                settle()
            await send(message)

        try:
            await self.app(scope, receive, settling_send)
        finally:
            unbind(token)
            settle()
