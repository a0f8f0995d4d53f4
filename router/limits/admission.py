"""One request's limits as one backend call each way: ``Admission`` in, ``Settlement`` out.

An admission bundles what a request must pass before it is served (its request windows,
the token window, a parallel slot, a budget hold); a backend answers it atomically with
one ``AdmissionVerdict`` (against Redis: one Lua script, one round trip). A settlement
bundles what the request gives back as it ends (the hold turned into spend, its tokens,
its slot). The single-mechanism protocols in ``router.limits.protocols`` stay for the
other users of the state; these carry the same rules, in one call.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Protocol

from router.limits.protocols import BudgetPeriod


@dataclass(frozen=True, slots=True)
class RateCheck:
    """Count one request in ``key``'s sliding window of ``window_s`` if under ``limit``;
    ``reason`` is what a refusal is counted as (``global_rpm``, ``rpm``)."""

    key: str
    limit: int
    window_s: float
    member: str
    reason: str


@dataclass(frozen=True, slots=True)
class TokenCheck:
    """Refuse when ``key``'s approximate token total over ``window_s`` reaches ``limit``."""

    key: str
    limit: int
    window_s: float


@dataclass(frozen=True, slots=True)
class SlotClaim:
    """Take one of ``limit`` parallel slots for ``holder``; it expires after ``ttl_s``."""

    key: str
    holder: str
    limit: int
    ttl_s: float


@dataclass(frozen=True, slots=True)
class BudgetHold:
    """Hold ``amount_usd`` if it fits what is left in every period."""

    key: str
    periods: Sequence[BudgetPeriod]
    amount_usd: float
    hold: str
    ttl_s: float


@dataclass(frozen=True, slots=True)
class Admission:
    """Every request window counts the request when it fits, whatever the others say;
    the slot and the hold are taken only when everything fits."""

    rates: tuple[RateCheck, ...] = ()
    tokens: TokenCheck | None = None
    slot: SlotClaim | None = None
    budget: BudgetHold | None = None

    @property
    def mechanisms(self) -> tuple[str, ...]:
        """The failure-policy mechanisms this admission touches (``router.limits.failsafe``)."""
        found: tuple[str, ...] = ("rate",) if self.rates or self.tokens else ()
        found += ("parallel",) if self.slot else ()
        return found + (("budget",) if self.budget else ())

    def __bool__(self) -> bool:
        return bool(self.rates or self.tokens or self.slot or self.budget)

    def with_budget(self, budget: BudgetHold | None) -> Admission:
        """This admission plus a budget hold."""
        return replace(self, budget=budget)


@dataclass(frozen=True, slots=True)
class AdmissionVerdict:
    """Allowed, or the first refusal: ``refused`` is ``rate`` (``rate_index`` into the
    admission's rates, ``retry_after_s``), ``tokens``, ``slot`` or ``budget`` (``period``,
    ``remaining_usd``)."""

    refused: str = ""
    rate_index: int = 0
    retry_after_s: float = 0.0
    period: str = ""
    remaining_usd: float = 0.0

    @property
    def allowed(self) -> bool:
        """Whether everything fit (slot and hold taken)."""
        return not self.refused


ALLOWED = AdmissionVerdict()


@dataclass(frozen=True, slots=True)
class BudgetCharge:
    """Drop ``hold`` (None: none), placed for ``held_usd``, and add the realized
    ``amount_usd`` to every period."""

    key: str
    periods: Sequence[BudgetPeriod]
    hold: str | None
    amount_usd: float
    held_usd: float


@dataclass(frozen=True, slots=True)
class TokenCharge:
    """Add ``amount`` tokens to ``key``'s window total."""

    key: str
    amount: float
    window_s: float


@dataclass(frozen=True, slots=True)
class SlotRelease:
    """Give ``holder``'s slot under ``key`` back."""

    key: str
    holder: str


@dataclass(frozen=True, slots=True)
class Settlement:
    """What one request gives back as it ends."""

    budget: BudgetCharge | None = None
    tokens: TokenCharge | None = None
    slot: SlotRelease | None = None

    @property
    def mechanisms(self) -> tuple[str, ...]:
        """The failure-policy mechanisms this settlement touches."""
        found: tuple[str, ...] = ("budget",) if self.budget else ()
        found += ("rate",) if self.tokens else ()
        return found + (("parallel",) if self.slot else ())

    def __bool__(self) -> bool:
        return bool(self.budget or self.tokens or self.slot)


class Admissions(Protocol):
    """Whole-request admission and settlement, each one atomic backend call."""

    async def admit(self, admission: Admission) -> AdmissionVerdict:
        """Count, check and take what ``admission`` asks for, or refuse (holding nothing)."""
        ...

    async def settle(self, settlement: Settlement) -> None:
        """Charge and release what ``settlement`` names."""
        ...
