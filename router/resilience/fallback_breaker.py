"""A shared ``BreakerStore`` with this process's own breaker behind it for outages.

Circuit state is advisory: losing the shared copy must not fail requests. So when the
shared store (Redis) errors, is unreachable or does not answer within ``timeout_s``, the
call is answered by ``local`` (an ``InProcessBreakerStore``) instead — fail open for the
sharing, not for the breaker: each process then trips its circuits on the failures it
sees itself. For ``retry_s`` after such an error the shared store is not tried, so a
dead Redis costs a request at most one ``timeout_s`` wait per ``retry_s``. Every call
answered locally is counted (``on_error``); the outage is logged once when it starts and
once when the shared store answers again.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from router.resilience.breaker import BreakerStore, CircuitView

logger = logging.getLogger(__name__)

T = TypeVar("T")


class FallbackBreakerStore:
    """``shared`` while it answers, ``local`` while it does not."""

    def __init__(
        self,
        shared: BreakerStore,
        local: BreakerStore,
        *,
        timeout_s: float,
        retry_s: float,
        errors: tuple[type[Exception], ...],
        on_error: Callable[[], None],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.shared = shared
        self.local = local
        self.timeout_s = timeout_s
        self.retry_s = retry_s
        self._errors: tuple[type[Exception], ...] = (*errors, OSError, TimeoutError)
        self._on_error = on_error
        self._clock = clock
        self._skip_until = 0.0
        self._outage = False

    @property
    def outage(self) -> bool:
        """Whether the last try of the shared store failed."""
        return self._outage

    async def _run(self, call: Callable[[BreakerStore], Awaitable[T]]) -> T:
        if self._clock() >= self._skip_until:
            try:
                async with asyncio.timeout(self.timeout_s):
                    result = await call(self.shared)
            except self._errors as error:
                self._failed(error)
            else:
                if self._outage:
                    self._outage = False
                    logger.warning("shared circuit breaker state is back (Redis answers)")
                return result
        self._on_error()
        return await call(self.local)

    def _failed(self, error: Exception) -> None:
        self._skip_until = self._clock() + self.retry_s
        if self._outage:
            return
        self._outage = True
        logger.warning(
            "shared circuit breaker state unavailable (%s: %s); each process uses its own "
            "breakers until Redis answers again (retried every %.1fs)",
            type(error).__name__,
            str(error)[:200] or "no answer within the timeout",
            self.retry_s,
        )

    async def state(self, model: str) -> CircuitView:
        return await self._run(lambda store: store.state(model))

    async def try_acquire(self, model: str) -> bool:
        return await self._run(lambda store: store.try_acquire(model))

    async def record(self, model: str, ok: bool) -> None:
        await self._run(lambda store: store.record(model, ok))

    async def aclose(self) -> None:
        """Close both stores."""
        await self.shared.aclose()
        await self.local.aclose()
