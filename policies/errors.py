"""Errors raised by the policy layer.

::

    PolicyError
    └── NoFeasibleModelError (alias ``NoFeasibleModel``; the router maps it to a 4xx)

``ValueError`` is used for malformed preferences (see ``policies.preferences``).
"""

from __future__ import annotations

from collections.abc import Mapping


class PolicyError(Exception):
    """Base class of every error the policy layer raises on purpose."""


class NoFeasibleModelError(PolicyError):
    """No model satisfies the hard constraints and the preferences forbid falling back.

    ``constraint`` names the constraint that removed the last remaining model (for
    example ``"max_cost_usd"`` or ``"context_window"``); ``removed`` counts how many
    models each constraint removed first.
    """

    def __init__(
        self, constraint: str, message: str, removed: Mapping[str, int] | None = None
    ) -> None:
        super().__init__(message)
        self.constraint = constraint
        self.message = message
        self.removed: dict[str, int] = dict(removed or {})


#: The name the architecture contract uses.
NoFeasibleModel = NoFeasibleModelError
