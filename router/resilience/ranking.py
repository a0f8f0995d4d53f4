"""The fallback order: the one place that turns a plan into models to try, best first.

A decision that carries ``ranking`` (feasible model indices, best first: the engine
refactor's ``Decision.ranking``) is used as-is. Otherwise the ranking is computed here
from ``decision.utility`` and ``decision.feasible`` with the tie-break of
``policies.decide.choose`` (higher utility, then higher quality, lower cost, lower
runtime, catalog order); once every decision has ``ranking``, ``decision_ranking``
shrinks to that one line.
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np

from router.catalog import Catalog
from router.planning import Plan


class _Outcome(Protocol):
    """What the ranking needs from a routing outcome: the decision and its table."""

    @property
    def decision(self) -> Any: ...

    @property
    def table(self) -> Any: ...


def decision_ranking(outcome: _Outcome) -> tuple[int, ...]:
    """Feasible model indices, best first, under the policy's own tie-break."""
    decision, table = outcome.decision, outcome.table
    ranked = getattr(decision, "ranking", None)
    if ranked:  # an empty ranking means the policy did not compute one
        return tuple(int(index) for index in ranked)
    feasible = np.flatnonzero(decision.feasible)
    if feasible.size == 0:
        return ()
    order = np.lexsort(
        (
            feasible,
            table.runtime_s[feasible],
            table.cost_usd[feasible],
            -table.quality[feasible],
            -decision.utility[feasible],
        )
    )
    return tuple(int(i) for i in feasible[order])


def fallback_order(plan: Plan, catalog: Catalog, *, named_fallback: bool) -> tuple[int, ...]:
    """Catalog indices to try for ``plan``: its chosen model first, then the fallbacks.

    A routed request falls back along the decision's ranking (feasible models only, so
    the caller's constraints still hold). A named model gets no fallback unless
    ``named_fallback``, then the other catalog models in file order.
    """
    chosen = catalog.positions[plan.model.name]
    if plan.outcome is not None:
        rest = decision_ranking(plan.outcome)
    elif named_fallback:
        rest = tuple(range(len(catalog.models)))
    else:
        rest = ()
    return (chosen, *(index for index in rest if index != chosen))
