"""The preference policy: feasibility, Pareto front, utility and a deterministic choice.

``decide`` is a pure function of a ``CandidateTable`` (one row per model) and frozen
``Preferences``. Steps:

1. **Feasibility.** The rows of ``policies.constraints.CONSTRAINTS`` are checked in
   order; each model records the first row it fails. The row that removed the last
   model is the latest such row.
2. **Front.** The exact Pareto front of the feasible set over (quality ↑, cost ↓,
   runtime ↓).
3. **Utility.** ``quality - cost_weight * cost_usd - latency_weight * runtime_s``
   (quality points; weights in quality points per USD and per second).
4. **Choice.** ``policies.choice``: highest utility; ties go to higher quality, then
   lower cost, then lower runtime, then catalog order. With non-negative weights this
   maximiser is always on the front. The whole pool is ranked (``Decision.ranking``),
   so a fallback can walk it.

Fallback (``fallback_on_infeasible``) relaxes every row marked ``relaxable``; missing
estimates, context fit and the allow/block lists are never relaxed.

**A pool with no prices.** When no model of the table has a finite cost, the pool is
quality-only (``policies.cost.quality_only_cost``): every cost counts as 0, so a missing
price does not make every model infeasible, ``cost_weight`` and ``max_cost_usd`` have no
effect, and the reason says "no model has a price: routed on quality only". When only
some models lack a price, those are missing estimates and are never chosen.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from policies.choice import best_index, rank_rows
from policies.choice import utility as utility_values
from policies.constraints import CONSTRAINTS, Constraint, Need
from policies.cost import is_quality_only, quality_only_cost
from policies.errors import NoFeasibleModel
from policies.pareto import pareto_front
from policies.types import BoolArray, CandidateTable, Decision, FloatArray, IntArray, Preferences

#: Appended to the reason of every decision made in a pool without prices.
QUALITY_ONLY_NOTE = "no model has a price: routed on quality only"


def decide(
    table: CandidateTable,
    prefs: Preferences,
    *,
    prompt_tokens: int,
    max_output_tokens: int = 0,
    constraints: tuple[Constraint, ...] = CONSTRAINTS,
) -> Decision:
    """Choose one model for one request and explain why.

    Raises ``NoFeasibleModel`` (naming the constraint that removed the last model) when
    nothing is feasible and ``prefs.fallback_on_infeasible`` is false, or when even the
    never-relaxed constraints leave nothing. Raises ``ValueError`` for negative or
    non-finite weights.
    """
    _check_weights(prefs)
    table, quality_only = _quality_only(table)
    first, hard = first_failures(table, prefs, prompt_tokens + max_output_tokens, constraints)
    done = len(constraints)
    feasible = first == done
    pool, failed = feasible, None
    if not np.count_nonzero(feasible):  # count_nonzero: no Python-level wrapper
        failed = constraints[int(first.max())].name
        pool = ~hard
        if not prefs.fallback_on_infeasible or not np.count_nonzero(pool):
            raise _no_feasible(table, first, constraints)
    utility = utility_of(table, prefs)
    ranking = rank(table, utility, pool)
    index = int(ranking[0])
    on_front = pareto_front(table.quality, table.cost_usd, table.runtime_s, mask=pool)
    return Decision(
        model=table.models[index],
        index=index,
        preferences=prefs,
        utility=utility,
        on_front=on_front,
        feasible=feasible,
        infeasible_reason=_reasons(first, constraints, feasible),
        reason=_explain(table, prefs, utility, pool, index, first, failed, constraints)
        + (f"; {QUALITY_ONLY_NOTE}" if quality_only else ""),
        fell_back=failed is not None,
        notes=_removal_notes(table, first, constraints),
        failed_constraint=failed,
        ranking=tuple(ranking[: np.count_nonzero(pool)].tolist()),
    )


def _reasons(
    first: IntArray, constraints: tuple[Constraint, ...], feasible: BoolArray
) -> tuple[str | None, ...]:
    """Per model, the name of the first constraint it fails (None when feasible)."""
    if np.count_nonzero(feasible) == len(feasible):
        return (None,) * len(first)
    done = len(constraints)
    return tuple(None if k == done else constraints[k].name for k in first.tolist())


def _quality_only(table: CandidateTable) -> tuple[CandidateTable, bool]:
    """The table as the choice sees it (costs 0 when no model has a price) and whether
    it is quality-only."""
    if not is_quality_only(table.cost_usd):
        return table, False
    return replace(table, cost_usd=quality_only_cost(table.cost_usd)), True


def _check_weights(prefs: Preferences) -> None:
    for name in ("cost_weight", "latency_weight"):
        value = getattr(prefs, name)
        if not (math.isfinite(value) and value >= 0.0):
            raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")


def first_failures(
    table: CandidateTable,
    prefs: Preferences,
    needed_tokens: int,
    constraints: tuple[Constraint, ...] = CONSTRAINTS,
) -> tuple[IntArray, BoolArray]:
    """Per model, the position of the first failed row (``len(constraints)`` if none),
    and whether it fails any row that is never relaxed."""
    done = len(constraints)
    first = np.full(len(table), done, dtype=np.int64)
    hard = np.zeros(len(table), dtype=np.bool_)
    need = Need(tokens=needed_tokens)
    for position, row in enumerate(constraints):
        failed = row.test(table, prefs, need)
        if failed is None or not np.count_nonzero(failed):
            continue
        first[failed & (first == done)] = position
        if not row.relaxable:
            hard |= failed
    return first, hard


def utility_of(table: CandidateTable, prefs: Preferences) -> FloatArray:
    """``quality - cost_weight * cost_usd - latency_weight * runtime_s`` for every model."""
    return utility_values(
        table.quality, table.cost_usd, table.runtime_s, prefs.cost_weight, prefs.latency_weight
    )


def rank(table: CandidateTable, utility: FloatArray, pool: BoolArray) -> IntArray:
    """Model indices best first (pool members first) under the one choice rule."""
    return rank_rows(utility, table.quality, table.cost_usd, table.runtime_s, pool)


def choose(table: CandidateTable, utility: FloatArray, pool: BoolArray) -> int:
    """Index of the best model in ``pool``."""
    return best_index(utility, table.quality, table.cost_usd, table.runtime_s, pool)


def _no_feasible(
    table: CandidateTable, first: IntArray, constraints: tuple[Constraint, ...]
) -> NoFeasibleModel:
    last = int(first.max())
    constraint = constraints[last].name
    removed = {constraints[k].name: int((first == k).sum()) for k in np.unique(first).tolist()}
    victims = [table.models[i] for i in np.flatnonzero(first == last).tolist()]
    message = (
        f"no model satisfies the constraints: {constraint} removed the last "
        f"{len(victims)} candidate(s) ({', '.join(victims)}); removed per constraint: "
        + ", ".join(f"{name}={count}" for name, count in removed.items())
    )
    return NoFeasibleModel(constraint, message, removed)


def _removal_notes(
    table: CandidateTable, first: IntArray, constraints: tuple[Constraint, ...]
) -> tuple[str, ...]:
    notes: list[str] = []
    removed = first[first != len(constraints)]
    for k in np.unique(removed).tolist() if len(removed) else ():
        names = ", ".join(table.models[i] for i in np.flatnonzero(first == k).tolist())
        notes.append(f"{constraints[k].name} removed: {names}")
    return tuple(notes)


def _explain(
    table: CandidateTable,
    prefs: Preferences,
    utility: FloatArray,
    pool: BoolArray,
    index: int,
    first: IntArray,
    failed: str | None,
    constraints: tuple[Constraint, ...],
) -> str:
    parts = [f"fell back: {failed} removed every model"] if failed else []
    size = int(np.count_nonzero(pool))
    top = choose(table, table.quality, pool)
    if size == 1:
        parts.append("only candidate left")
    elif top == index:
        parts.append(f"highest predicted quality among {size} candidates")
    else:
        parts.append(_trade_off(table, prefs, top, index))
    if failed is None:
        widened = first > 0  # all but missing estimates; the pool itself if only they left
        same = not np.count_nonzero(widened & ~pool)
        unconstrained = index if same else choose(table, utility, widened)
        if unconstrained != index:
            name = constraints[int(first[unconstrained])].name
            parts.append(f"{name} excluded {table.models[unconstrained]} (higher utility)")
    return "; ".join(parts)


def _trade_off(table: CandidateTable, prefs: Preferences, top: int, index: int) -> str:
    q, c, r = table.quality, table.cost_usd, table.runtime_s
    saved_cost = prefs.cost_weight * (c[top] - c[index])
    saved_time = prefs.latency_weight * (r[top] - r[index])
    weight = "cost_weight" if saved_cost >= saved_time else "latency_weight"
    return (
        f"{weight}={getattr(prefs, weight):g} traded {q[top] - q[index]:.3g} quality "
        f"vs {table.models[top]} for ${c[top] - c[index]:.3g} and {r[top] - r[index]:.3g}s"
    )
