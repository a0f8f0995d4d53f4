"""Who is calling, and what one request used: set by the guard, read along the path.

The guard puts a ``RequestAccount`` in a context variable for the life of one request
(asyncio copies it into the response's tasks), so the spend controller can pick the
caller's own controller and the feedback step can record realized cost and tokens
without either knowing about HTTP. The guard settles the account after the response.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass
from typing import Literal

from router.auth.keys import VirtualKey
from router.limits.admission import Admission

CallerKind = Literal["anonymous", "master", "key"]


@dataclass(frozen=True, slots=True)
class Caller:
    """An authenticated caller: nobody in particular (auth off), the operator, or a key."""

    kind: CallerKind
    key: VirtualKey | None = None

    @property
    def owner(self) -> str:
        """The id its limits and controllers are kept under (never the key itself)."""
        return f"key:{self.key.id}" if self.key is not None else self.kind


ANONYMOUS = Caller("anonymous")
MASTER = Caller("master")


@dataclass(slots=True)
class RequestAccount:
    """One request's caller, what it holds (slot, budget) and what it used."""

    caller: Caller
    request_id: str
    slot_key: str | None = None
    hold: str | None = None
    held_usd: float = 0.0
    cost_usd: float = 0.0
    tokens: int = 0
    recorded: bool = False
    #: The response status once it started (0 before).
    status: int = 0
    #: Checks waiting to leave with the budget hold (against a remote backend).
    admission: Admission | None = None

    def charge_usd(self) -> float:
        """What the caller pays: the realized cost, or, for a 200 whose usage was never
        recorded (a stream the caller cut short), the cost held for it."""
        if self.recorded:
            return self.cost_usd
        return self.held_usd if self.status == 200 else 0.0


_ACCOUNT: ContextVar[RequestAccount | None] = ContextVar("paretoroute_account", default=None)


def current_account() -> RequestAccount | None:
    """The account of the request being served, if a guard set one."""
    return _ACCOUNT.get()


def current_caller() -> Caller | None:
    """The caller of the request being served, if a guard set one."""
    account = _ACCOUNT.get()
    return account.caller if account is not None else None


def record_usage(cost_usd: float, tokens: int) -> None:
    """Add a served request's realized cost and tokens to its account."""
    account = _ACCOUNT.get()
    if account is not None:
        account.cost_usd += cost_usd
        account.tokens += tokens
        account.recorded = True


def bind(account: RequestAccount) -> object:
    """Make ``account`` current; returns the token for ``unbind``."""
    return _ACCOUNT.set(account)


def unbind(token: object) -> None:
    """Restore the previous account."""
    _ACCOUNT.reset(token)  # type: ignore[arg-type]
