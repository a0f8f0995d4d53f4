"""``/admin/keys``: create, list, inspect and revoke virtual keys (master key only).

The secret is in the create response only. Listings show the key id, its name, limits,
times and a hint (``pr-sk-...abcd``). ``GET /admin/keys/{id}`` adds the USD spent in the
current day and month from the shared state.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import anyio
from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel

from router.api.openapi import ERROR_RESPONSES
from router.auth.callers import Callers
from router.auth.keys import KeyLimits, KeySpec, VirtualKey
from router.auth.store import KeyStore
from router.errors import AuthenticationError, NotFoundError, PermissionDeniedError

api = APIRouter(prefix="/admin", tags=["admin"])


class KeyInfo(BaseModel):
    """A key as the admin API shows it; never the secret except right after creation."""

    object: str = "api_key"
    id: str
    name: str
    hint: str
    limits: KeyLimits
    created_at: datetime
    revoked_at: datetime | None = None
    key: str | None = None
    spent_usd: dict[str, float] | None = None


class KeyList(BaseModel):
    """``GET /admin/keys``."""

    object: str = "list"
    data: list[KeyInfo]


def _info(key: VirtualKey, secret: str | None = None) -> KeyInfo:
    return KeyInfo(
        id=key.id,
        name=key.name,
        hint=key.hint,
        limits=key.limits,
        created_at=key.created_at,
        revoked_at=key.revoked_at,
        key=secret,
    )


async def operator(request: Request) -> Callers:
    """The app's callers, once the request is shown to come from the master key."""
    callers: Callers = request.app.state.services.callers
    auth = callers.authenticator
    if not auth.enabled or callers.store is None:
        raise PermissionDeniedError(
            "Key management is off: set PARETOROUTE_MASTER_KEY to turn on authentication.",
            code="admin_disabled",
        )
    caller = await auth.authenticate(request.headers)
    if caller.kind != "master":
        auth.metrics.auth_failures.labels("not_master").inc()
        raise AuthenticationError("Key management needs the master key.")
    return callers


Operator = Annotated[Callers, Depends(operator)]


def _store(callers: Callers) -> KeyStore:
    assert callers.store is not None
    return callers.store


@api.post("/keys", response_model=KeyInfo, responses=ERROR_RESPONSES)
async def create_key(spec: KeySpec, callers: Operator) -> KeyInfo:
    """A new virtual key; the response's ``key`` is the only copy of the secret."""
    key, secret = await anyio.to_thread.run_sync(_store(callers).create, spec)
    return _info(key, secret)


@api.get("/keys", response_model=KeyList, responses=ERROR_RESPONSES)
async def list_keys(callers: Operator, include_revoked: bool = False) -> KeyList:
    """Every key (live ones unless ``include_revoked``)."""
    store = _store(callers)
    keys = await anyio.to_thread.run_sync(lambda: store.list_keys(include_revoked=include_revoked))
    return KeyList(data=[_info(key) for key in keys])


async def _get(callers: Callers, key_id: str) -> VirtualKey:
    key = await anyio.to_thread.run_sync(_store(callers).get, key_id)
    if key is None:
        raise NotFoundError(f"No key with id {key_id!r}.", param="key_id", code="key_not_found")
    return key


@api.get("/keys/{key_id}", response_model=KeyInfo, responses=ERROR_RESPONSES)
async def show_key(key_id: str, callers: Operator) -> KeyInfo:
    """One key with what it spent this UTC day and month."""
    key = await _get(callers, key_id)
    info = _info(key)
    info.spent_usd = await callers.limits.spent(f"key:{key.id}", key.limits)
    return info


@api.delete("/keys/{key_id}", response_model=KeyInfo, responses=ERROR_RESPONSES)
async def revoke_key(key_id: str, callers: Operator) -> KeyInfo:
    """Revoke a key: refused from now on here, within ``key_cache_s`` on other replicas."""
    await _get(callers, key_id)
    key = await anyio.to_thread.run_sync(_store(callers).revoke, key_id)
    assert key is not None
    callers.authenticator.forget(key_id)
    return _info(key)
