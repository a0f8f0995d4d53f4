"""``Authorization: Bearer ...`` → a ``Caller``: anonymous (auth off), master, or a key.

Virtual keys are looked up by hash in the key store (in a worker thread) and cached for
``cache_s`` seconds, misses included, so a flood of wrong keys costs one query each per
cache period at most. The cache is bounded; revoking in this process drops it at once.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping

import anyio

from router.auth.context import ANONYMOUS, MASTER, Caller
from router.auth.keys import KEY_PREFIX, VirtualKey, hash_key, is_master
from router.auth.store import KeyStore
from router.errors import AuthenticationError
from router.metrics import RouterMetrics

_MAX_CACHED = 10_000
_MAX_KEY_CHARS = 256


def bearer_token(headers: Mapping[str, str]) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, if there is one."""
    value = headers.get("authorization")
    if value is None:
        return None
    scheme, _, token = value.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


class Authenticator:
    """Recognises callers; ``master=None`` turns auth off (everyone is anonymous)."""

    def __init__(
        self,
        master: str | None,
        store: KeyStore | None,
        metrics: RouterMetrics,
        cache_s: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.master = master
        self.store = store
        self.metrics = metrics
        self.cache_s = cache_s
        self._clock = clock
        self._cache: dict[str, tuple[VirtualKey | None, float]] = {}

    @property
    def enabled(self) -> bool:
        """Whether callers must present a key."""
        return self.master is not None

    def _refuse(self, reason: str, message: str) -> AuthenticationError:
        self.metrics.auth_failures.labels(reason).inc()
        return AuthenticationError(message)

    async def authenticate(self, headers: Mapping[str, str]) -> Caller:
        """The caller, or 401 for a missing or wrong key (never echoing it)."""
        if self.master is None:
            return ANONYMOUS
        token = bearer_token(headers)
        if token is None:
            raise self._refuse(
                "missing",
                "You didn't provide an API key. Send it as 'Authorization: Bearer <key>'.",
            )
        if is_master(token, self.master):
            return MASTER
        key = await self._lookup(token)
        if key is None:
            raise self._refuse("invalid", "Incorrect API key provided.")
        return Caller("key", key)

    async def _lookup(self, token: str) -> VirtualKey | None:
        if self.store is None or not token.startswith(KEY_PREFIX) or len(token) > _MAX_KEY_CHARS:
            return None
        digest = hash_key(token)
        cached = self._cache.get(digest)
        now = self._clock()
        if cached is not None and cached[1] > now:
            return cached[0]
        store = self.store
        key = await anyio.to_thread.run_sync(lambda: store.find(token))
        if len(self._cache) >= _MAX_CACHED:
            self._cache.clear()
        self._cache[digest] = (key, now + self.cache_s)
        return key

    def forget(self, key_id: str) -> None:
        """Drop a key from the cache (after revoking it here)."""
        for digest, (key, _) in list(self._cache.items()):
            if key is not None and key.id == key_id:
                del self._cache[digest]
