"""The preference policy: feasibility, Pareto front, utility and a deterministic choice.

``decide`` is a pure function of a ``CandidateTable`` (one row per model) and frozen
``Preferences``. Steps:

1. **Feasibility.** Every hard constraint is checked in the fixed order of
   ``CONSTRAINTS``; each model records the first constraint it fails. The constraint
   that removed the last model is the largest such index.
2. **Front.** The exact Pareto front of the feasible set over (quality ↑, cost ↓,
   runtime ↓).
3. **Utility.** ``quality - cost_weight * cost_usd - latency_weight * runtime_s``
   (quality points; weights in quality points per USD and per second).
4. **Choice.** Highest utility; ties go to higher quality, then lower cost, then lower
   runtime, then catalog order. With non-negative weights this maximiser is always on
   the front (a dominating model never has lower utility, and the tie-break prefers it).

Fallback (``fallback_on_infeasible``) relaxes every constraint after
``blocked_models`` in ``CONSTRAINTS`` order; missing estimates, context fit and the
allow/block lists are never relaxed.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np

from policies.errors import NoFeasibleModel
from policies.pareto import pareto_front
from policies.types import BoolArray, CandidateTable, Decision, FloatArray, IntArray, Preferences

#: Hard constraints in the order they are applied.
CONSTRAINTS: tuple[str, ...] = (
    "missing_estimate",
    "context_window",
    "allowed_models",
    "blocked_models",
    "local_only",
    "max_params_b",
    "min_release_date",
    "min_quality",
    "max_cost_usd",
    "max_latency_s",
)
#: Constraints before this index are never relaxed by a fallback.
NEVER_RELAXED = CONSTRAINTS.index("blocked_models") + 1
_OK = len(CONSTRAINTS)


def decide(
    table: CandidateTable,
    prefs: Preferences,
    *,
    prompt_tokens: int,
    max_output_tokens: int = 0,
) -> Decision:
    """Choose one model for one request and explain why.

    Raises ``NoFeasibleModel`` (naming the constraint that removed the last model) when
    nothing is feasible and ``prefs.fallback_on_infeasible`` is false, or when even the
    never-relaxed constraints leave nothing. Raises ``ValueError`` for negative or
    non-finite weights.
    """
    _check_weights(prefs)
    first = first_failures(table, prefs, prompt_tokens + max_output_tokens)
    feasible = first == _OK
    pool, failed = feasible, None
    if not feasible.any():
        failed = CONSTRAINTS[int(first.max())]
        pool = first >= NEVER_RELAXED
        if not prefs.fallback_on_infeasible or not pool.any():
            raise _no_feasible(table, first)
    utility = utility_of(table, prefs)
    index = choose(table, utility, pool)
    on_front = pareto_front(table.quality, table.cost_usd, table.runtime_s, mask=pool)
    return Decision(
        model=table.models[index],
        index=index,
        preferences=prefs,
        utility=utility,
        on_front=on_front,
        feasible=feasible,
        infeasible_reason=tuple(None if k == _OK else CONSTRAINTS[k] for k in first.tolist()),
        reason=_explain(table, prefs, utility, pool, index, first, failed),
        fell_back=failed is not None,
        notes=_removal_notes(table, first),
        failed_constraint=failed,
    )


def _check_weights(prefs: Preferences) -> None:
    for name in ("cost_weight", "latency_weight"):
        value = getattr(prefs, name)
        if not (math.isfinite(value) and value >= 0.0):
            raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")


def _not_in(models: tuple[str, ...], names: frozenset[str]) -> BoolArray:
    return np.fromiter((m not in names for m in models), dtype=np.bool_, count=len(models))


def _failures(
    table: CandidateTable, prefs: Preferences, needed_tokens: int
) -> Iterator[tuple[int, BoolArray]]:
    """Yield ``(constraint index, failed mask)`` for every active constraint, in order."""
    q, c, r = table.quality, table.cost_usd, table.runtime_s
    yield 0, ~(np.isfinite(q) & np.isfinite(c) & np.isfinite(r))
    # A context window <= 0 means "unknown" and is not held against the model.
    yield 1, (table.context_window > 0) & (table.context_window < needed_tokens)
    if prefs.allowed_models is not None:
        yield 2, _not_in(table.models, prefs.allowed_models)
    if prefs.blocked_models:
        yield 3, ~_not_in(table.models, prefs.blocked_models)
    if prefs.local_only:
        yield 4, ~table.is_local
    if prefs.max_params_b is not None:
        yield 5, ~(table.params_b <= prefs.max_params_b)  # NaN (unknown) fails
    if prefs.min_release_date is not None:
        yield 6, table.release_ordinal < prefs.min_release_date.toordinal()  # 0 fails
    if prefs.min_quality is not None:
        yield 7, ~(q >= prefs.min_quality)
    if prefs.max_cost_usd is not None:
        yield 8, ~(c <= prefs.max_cost_usd)
    if prefs.max_latency_s is not None:
        yield 9, ~(r <= prefs.max_latency_s)


def first_failures(table: CandidateTable, prefs: Preferences, needed_tokens: int) -> IntArray:
    """Per model, the index in ``CONSTRAINTS`` of the first failed constraint (or ``len``)."""
    first = np.full(len(table), _OK, dtype=np.int64)
    for index, failed in _failures(table, prefs, needed_tokens):
        first[failed & (first == _OK)] = index
    return first


def utility_of(table: CandidateTable, prefs: Preferences) -> FloatArray:
    """``quality - cost_weight * cost_usd - latency_weight * runtime_s`` for every model."""
    utility = np.array(table.quality, dtype=np.float64)
    if prefs.cost_weight:
        utility -= prefs.cost_weight * table.cost_usd
    if prefs.latency_weight:
        utility -= prefs.latency_weight * table.runtime_s
    return utility


def choose(table: CandidateTable, utility: FloatArray, pool: BoolArray) -> int:
    """Index of the best model in ``pool`` under the deterministic tie-break."""
    best = np.where(pool, utility, -np.inf).max()
    ties = np.flatnonzero(pool & (utility == best))
    if len(ties) == 1:
        return int(ties[0])
    order = np.lexsort((ties, table.runtime_s[ties], table.cost_usd[ties], -table.quality[ties]))
    return int(ties[order[0]])


def _no_feasible(table: CandidateTable, first: IntArray) -> NoFeasibleModel:
    last = int(first.max())
    constraint = CONSTRAINTS[last]
    removed = {CONSTRAINTS[k]: int((first == k).sum()) for k in np.unique(first).tolist()}
    victims = [table.models[i] for i in np.flatnonzero(first == last).tolist()]
    message = (
        f"no model satisfies the constraints: {constraint} removed the last "
        f"{len(victims)} candidate(s) ({', '.join(victims)}); removed per constraint: "
        + ", ".join(f"{name}={count}" for name, count in removed.items())
    )
    return NoFeasibleModel(constraint, message, removed)


def _removal_notes(table: CandidateTable, first: IntArray) -> tuple[str, ...]:
    notes = []
    for k in np.unique(first[first != _OK]).tolist():
        names = ", ".join(table.models[i] for i in np.flatnonzero(first == k).tolist())
        notes.append(f"{CONSTRAINTS[k]} removed: {names}")
    return tuple(notes)


def _explain(
    table: CandidateTable,
    prefs: Preferences,
    utility: FloatArray,
    pool: BoolArray,
    index: int,
    first: IntArray,
    failed: str | None,
) -> str:
    parts = [f"fell back: {failed} removed every model"] if failed else []
    size = int(pool.sum())
    top = choose(table, table.quality, pool)
    if size == 1:
        parts.append("only candidate left")
    elif top == index:
        parts.append(f"highest predicted quality among {size} candidates")
    else:
        parts.append(_trade_off(table, prefs, top, index))
    unconstrained = choose(table, utility, first > 0)  # all but missing estimates
    if unconstrained != index and failed is None:
        name = CONSTRAINTS[int(first[unconstrained])]
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
