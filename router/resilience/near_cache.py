"""A shared ``BreakerStore`` without a round trip per request while a circuit is closed.

With Redis holding the circuits, every upstream call would cost two round trips on the
response path: ``try_acquire`` before it and ``record`` after it. Almost always the
answer is "closed, go ahead", so this wrapper remembers the last state the process saw
for each model (every answer of the shared store, via ``saw``) and:

- ``try_acquire`` answers True without asking while the model was seen closed less than
  ``refresh_s`` ago; any other state (open, half-open, unknown, stale) asks the store;
- ``record`` of a success on a circuit seen closed is sent in the background (it still
  counts in the shared window, and its answer refreshes what was seen); failures and
  probe results are recorded before the call returns, so retries and fallbacks decide
  on the state they produced.

The price: a replica notices a circuit that *another* replica opened within
``refresh_s``, or at its next recorded call, whichever comes first. ``state`` always
asks the store. ``refresh_s = 0`` turns the cache off.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from router.resilience.breaker import BreakerStore, CircuitState, CircuitView

#: Background records allowed in flight before ``record`` waits for its own.
MAX_PENDING = 1024


class NearCacheBreakerStore:
    """``inner`` (a shared store) behind a per-process memory of closed circuits."""

    def __init__(
        self,
        inner: BreakerStore,
        refresh_s: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.inner = inner
        self.refresh_s = refresh_s
        self._clock = clock
        self._seen: dict[str, tuple[CircuitState, float]] = {}
        self._pending: set[asyncio.Task[None]] = set()

    def saw(self, model: str, state: CircuitState) -> None:
        """Remember a state the store answered for ``model``."""
        self._seen[model] = (state, self._clock())

    def _closed(self, model: str) -> bool:
        seen = self._seen.get(model)
        return (
            seen is not None
            and seen[0] is CircuitState.CLOSED
            and self._clock() - seen[1] < self.refresh_s
        )

    async def state(self, model: str) -> CircuitView:
        return await self.inner.state(model)

    async def try_acquire(self, model: str) -> bool:
        if self._closed(model):
            return True
        return await self.inner.try_acquire(model)

    async def record(self, model: str, ok: bool) -> None:
        if not (ok and self._closed(model)) or len(self._pending) >= MAX_PENDING:
            await self.inner.record(model, ok)
            return
        task = asyncio.get_running_loop().create_task(self.inner.record(model, ok))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def aclose(self) -> None:
        """Wait for the background records, then close ``inner``."""
        if self._pending:
            await asyncio.gather(*self._pending, return_exceptions=True)
        await self.inner.aclose()
