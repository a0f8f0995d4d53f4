"""The shared-state protocols behind caller limits, budgets and replicated state.

Keys passed in are opaque ids (``key:<id>``, ``global``); never key material.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from router.limits.admission import Admissions


@dataclass(frozen=True, slots=True)
class WindowVerdict:
    """Whether a request fits a sliding window; if not, when the window frees a slot."""

    allowed: bool
    retry_after_s: float = 0.0


@dataclass(frozen=True, slots=True)
class BudgetPeriod:
    """One budget bucket: ``day:2026-11-26`` with its limit and how long to keep it."""

    name: str
    limit_usd: float
    ttl_s: int


@dataclass(frozen=True, slots=True)
class BudgetVerdict:
    """A hold placed, or the period that has no room and what is left in it."""

    allowed: bool
    period: str = ""
    remaining_usd: float = 0.0


class RateWindows(Protocol):
    """Sliding-window counters."""

    async def hit(self, key: str, limit: int, window_s: float, member: str) -> WindowVerdict:
        """Count one event if fewer than ``limit`` happened in the last ``window_s``."""
        ...

    async def add(self, key: str, amount: float, window_s: float) -> None:
        """Add ``amount`` (tokens) to the approximate window total."""
        ...

    async def total(self, key: str, window_s: float) -> float:
        """The approximate total of the last ``window_s``."""
        ...


class Semaphores(Protocol):
    """Counting semaphores whose slots expire if never released."""

    async def acquire(self, key: str, holder: str, limit: int, ttl_s: float) -> bool:
        """Take a slot for ``holder`` if fewer than ``limit`` are held."""
        ...

    async def release(self, key: str, holder: str) -> None:
        """Give the slot back (no-op if it expired)."""
        ...


class Budgets(Protocol):
    """USD budgets per period with holds for in-flight requests."""

    async def reserve(
        self,
        key: str,
        periods: Sequence[BudgetPeriod],
        amount_usd: float,
        hold: str,
        hold_ttl_s: float,
    ) -> BudgetVerdict:
        """Hold ``amount_usd`` if spent + held + amount fits every period's limit."""
        ...

    async def settle(
        self, key: str, periods: Sequence[BudgetPeriod], hold: str | None, amount_usd: float
    ) -> None:
        """Drop the hold and add the realized ``amount_usd`` to every period."""
        ...

    async def spent(self, key: str, period: str) -> float:
        """USD spent in ``period`` (holds not included)."""
        ...


class SharedState(Protocol):
    """Generic replicated key/value and counters with expiry (e.g. circuit states)."""

    async def get(self, key: str) -> str | None:
        """The value, or None if unset or expired."""
        ...

    async def set(self, key: str, value: str, ttl_s: float | None = None) -> None:
        """Set ``key``; with ``ttl_s`` it expires."""
        ...

    async def incr(self, key: str, amount: float = 1.0, ttl_s: float | None = None) -> float:
        """Atomically add ``amount`` and return the new value; ``ttl_s`` set on creation."""
        ...

    async def delete(self, key: str) -> None:
        """Remove ``key``."""
        ...


class StateBackend(Protocol):
    """One backend providing every mechanism, closed with the app."""

    @property
    def windows(self) -> RateWindows:
        """Request and token windows."""
        ...

    @property
    def semaphores(self) -> Semaphores:
        """Parallel-request slots."""
        ...

    @property
    def budgets(self) -> Budgets:
        """USD budgets."""
        ...

    @property
    def state(self) -> SharedState:
        """Generic key/value and counters."""
        ...

    @property
    def admissions(self) -> Admissions:
        """Whole-request admission and settlement, one call each."""
        ...

    async def aclose(self) -> None:
        """Release connections."""
        ...
