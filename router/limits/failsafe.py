"""Calls to a shared-state backend with a short deadline and a failure policy per mechanism.

When a call fails to connect or loses its connection, the backend is treated as down for
``retry_s`` (calls during that time do not wait on it) and the outage is logged once. A
call that only runs past ``timeout_s`` (a slow reply, or an event loop too busy to read
it) gets the policy for itself alone. Either way the error is counted per mechanism and
the mechanism's policy decides: ``open`` returns the fallback (the
request goes through unlimited by that mechanism), ``closed`` raises a 503
``limits_unavailable`` with ``retry-after``. Never a crash, never a hang.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Literal, TypeVar

from router.errors import OverloadedError

logger = logging.getLogger(__name__)

T = TypeVar("T")
Policy = Literal["open", "closed"]
#: The mechanisms with a policy each: request/token windows, parallel slots, budgets,
#: generic shared state (left to its user: ``closed`` raises, ``open`` returns fallback).
MECHANISMS = ("rate", "parallel", "budget", "state")


class Failsafe:
    """Runs backend calls; ``errors`` are the exception types that mean "backend down"."""

    def __init__(
        self,
        policies: Mapping[str, Policy],
        *,
        timeout_s: float,
        retry_s: float,
        errors: tuple[type[Exception], ...],
        on_error: Callable[[str], None],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.policies = dict(policies)
        self.timeout_s = timeout_s
        self.retry_s = retry_s
        self._errors: tuple[type[Exception], ...] = (*errors, OSError)
        self._on_error = on_error
        self._clock = clock
        self._down_until = 0.0

    @property
    def down(self) -> bool:
        """Whether the backend is in its back-off window after an error."""
        return self._clock() < self._down_until

    async def run(
        self, mechanism: str | tuple[str, ...], call: Callable[[], Awaitable[T]], fallback: T
    ) -> T:
        """``await call()``, or the failure policy when the backend is down; a call that
        serves several mechanisms at once fails ``closed`` if any of them does."""
        mechanisms = (mechanism,) if isinstance(mechanism, str) else mechanism
        if self.down:
            return self._fail(mechanisms, fallback)
        try:
            async with asyncio.timeout(self.timeout_s):
                return await call()
        except TimeoutError:
            return self._fail(mechanisms, fallback)
        except self._errors as error:
            if not self.down:
                logger.warning(
                    "shared state backend unavailable (%s: %s); %s fails %s for %.1fs",
                    type(error).__name__,
                    str(error)[:200],
                    "/".join(mechanisms),
                    "/".join(self.policies.get(m, "open") for m in mechanisms),
                    self.retry_s,
                )
            self._down_until = self._clock() + self.retry_s
            return self._fail(mechanisms, fallback)

    def _fail(self, mechanisms: tuple[str, ...], fallback: T) -> T:
        for mechanism in mechanisms:
            self._on_error(mechanism)
        for mechanism in mechanisms:
            if self.policies.get(mechanism, "open") == "closed":
                raise OverloadedError(
                    f"The router cannot check its {mechanism} limits right now; try again shortly.",
                    code="limits_unavailable",
                    retry_after_s=max(self.retry_s, 1.0),
                )
        return fallback
