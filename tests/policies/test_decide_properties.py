"""Hypothesis properties of ``decide`` over random score tables.

Scores, costs, runtimes and weights are drawn from dyadic lattices (multiples of powers
of two) so every utility is computed exactly in float64; the monotonicity arguments
are then exact rather than "up to rounding".
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from policies import NoFeasibleModel, Preferences, decide
from policies.types import CandidateTable, Decision
from tests.policies.conftest import make_table

NAMES = [f"m{i}" for i in range(12)]
NEVER_RELAXED = {"missing_estimate", "context_window", "allowed_models", "blocked_models"}


@st.composite
def tables(draw: st.DrawFn) -> CandidateTable:
    m = draw(st.integers(1, 12))
    lattice = st.lists(st.integers(0, 16), min_size=m, max_size=m)
    return make_table(
        [v / 16 for v in draw(lattice)],
        [v / 1024 for v in draw(lattice)],
        [v / 4 for v in draw(lattice)],
        context_window=draw(st.lists(st.sampled_from([0, 1000, 4000]), min_size=m, max_size=m)),
        is_local=draw(st.lists(st.booleans(), min_size=m, max_size=m)),
        params_b=draw(st.lists(st.sampled_from([np.nan, 7.0, 70.0]), min_size=m, max_size=m)),
        release=draw(
            st.lists(
                st.sampled_from([None, date(2023, 1, 1), date(2024, 6, 1)]), min_size=m, max_size=m
            )
        ),
        names=NAMES[:m],
    )


weights = st.integers(0, 64).map(lambda v: v / 8)
optional_bound = st.one_of(st.none(), st.integers(0, 16))
some_names = st.one_of(st.none(), st.frozensets(st.sampled_from(NAMES), max_size=6))


@st.composite
def preferences(draw: st.DrawFn) -> Preferences:
    bound = draw(optional_bound)
    cost = draw(optional_bound)
    latency = draw(optional_bound)
    return Preferences(
        cost_weight=draw(weights),
        latency_weight=draw(weights),
        min_quality=None if bound is None else bound / 16,
        max_cost_usd=None if cost is None else cost / 1024,
        max_latency_s=None if latency is None else latency / 4,
        allowed_models=draw(some_names),
        blocked_models=draw(some_names) or frozenset(),
        local_only=draw(st.booleans()),
        max_params_b=draw(st.sampled_from([None, 10.0, 100.0])),
        min_release_date=draw(st.sampled_from([None, date(2023, 6, 1)])),
        fallback_on_infeasible=draw(st.booleans()),
    )


prompt_sizes = st.integers(0, 1200)


def _honours(table: CandidateTable, prefs: Preferences, i: int, needed: int) -> bool:
    """Independent re-statement of every hard constraint for model ``i``."""
    name = table.models[i]
    window = int(table.context_window[i])
    checks = [
        window <= 0 or needed <= window,
        prefs.allowed_models is None or name in prefs.allowed_models,
        name not in prefs.blocked_models,
        not prefs.local_only or bool(table.is_local[i]),
        prefs.max_params_b is None or bool(table.params_b[i] <= prefs.max_params_b),
        prefs.min_release_date is None
        or int(table.release_ordinal[i]) >= prefs.min_release_date.toordinal(),
        prefs.min_quality is None or table.quality[i] >= prefs.min_quality,
        prefs.max_cost_usd is None or table.cost_usd[i] <= prefs.max_cost_usd,
        prefs.max_latency_s is None or table.runtime_s[i] <= prefs.max_latency_s,
    ]
    return all(checks)


def _dominated_within(table: CandidateTable, members: list[int], j: int) -> bool:
    q, c, r = table.quality, table.cost_usd, table.runtime_s
    for i in members:
        weakly = q[i] >= q[j] and c[i] <= c[j] and r[i] <= r[j]
        if weakly and (q[i] > q[j] or c[i] < c[j] or r[i] < r[j]):
            return True
    return False


def _try(table: CandidateTable, prefs: Preferences, tokens: int) -> Decision | None:
    try:
        return decide(table, prefs, prompt_tokens=tokens)
    except NoFeasibleModel:
        return None


@settings(max_examples=300)
@given(tables(), preferences(), prompt_sizes)
def test_choice_is_feasible_and_on_the_feasible_front(table, prefs, tokens) -> None:
    feasible = [i for i in range(len(table)) if _honours(table, prefs, i, tokens)]
    decision = _try(table, prefs, tokens)
    if not feasible:
        assert decision is None or decision.fell_back
        if decision is not None:
            kept = _relax_after(prefs, ["context_window", "allowed_models", "blocked_models"])
            assert _honours(table, kept, decision.index, tokens)
        return
    assert decision is not None
    assert not decision.fell_back
    assert decision.index in feasible
    assert decision.feasible.tolist() == [i in feasible for i in range(len(table))]
    assert not _dominated_within(table, feasible, decision.index)
    assert decision.on_front[decision.index]
    expected_front = [
        i in feasible and not _dominated_within(table, feasible, i) for i in range(len(table))
    ]
    assert decision.on_front.tolist() == expected_front


@settings(max_examples=300)
@given(tables(), preferences(), prompt_sizes)
def test_infeasible_raises_naming_the_last_constraint_or_falls_back(table, prefs, tokens) -> None:
    strict = replace(prefs, fallback_on_infeasible=False)
    if any(_honours(table, strict, i, tokens) for i in range(len(table))):
        return
    try:
        decide(table, strict, prompt_tokens=tokens)
    except NoFeasibleModel as error:
        reasons = decide_reasons(table, strict, tokens)
        assert error.constraint == max(reasons, key=CONSTRAINT_ORDER.index)
    else:
        raise AssertionError("expected NoFeasibleModel")


CONSTRAINT_ORDER = [
    "context_window",
    "allowed_models",
    "blocked_models",
    "local_only",
    "max_params_b",
    "min_release_date",
    "min_quality",
    "max_cost_usd",
    "max_latency_s",
]


def decide_reasons(table: CandidateTable, prefs: Preferences, tokens: int) -> list[str]:
    """First failing constraint per model, by removing constraints one at a time."""
    reasons = []
    for i in range(len(table)):
        for k, name in enumerate(CONSTRAINT_ORDER):
            relaxed = _relax_after(prefs, CONSTRAINT_ORDER[: k + 1])
            if not _honours(table, relaxed, i, tokens):
                reasons.append(name)
                break
    return reasons


def _relax_after(prefs: Preferences, kept: list[str]) -> Preferences:
    defaults = Preferences()
    changes = {n: getattr(defaults, n) for n in CONSTRAINT_ORDER[1:] if n not in kept}
    return replace(prefs, **changes)


@settings(max_examples=300)
@given(tables(), preferences(), weights, weights, prompt_sizes)
def test_raising_cost_weight_never_raises_chosen_cost(table, prefs, w1, w2, tokens) -> None:
    low, high = sorted((w1, w2))
    first = _try(table, replace(prefs, cost_weight=low), tokens)
    second = _try(table, replace(prefs, cost_weight=high), tokens)
    assert (first is None) == (second is None)
    if first is not None and second is not None:
        assert table.cost_usd[second.index] <= table.cost_usd[first.index]


@settings(max_examples=300)
@given(tables(), preferences(), weights, weights, prompt_sizes)
def test_raising_latency_weight_never_raises_chosen_runtime(table, prefs, w1, w2, tokens) -> None:
    low, high = sorted((w1, w2))
    first = _try(table, replace(prefs, latency_weight=low), tokens)
    second = _try(table, replace(prefs, latency_weight=high), tokens)
    assert (first is None) == (second is None)
    if first is not None and second is not None:
        assert table.runtime_s[second.index] <= table.runtime_s[first.index]


@settings(max_examples=200)
@given(tables(), preferences(), prompt_sizes)
def test_ties_break_deterministically(table, prefs, tokens) -> None:
    decision = _try(table, prefs, tokens)
    if decision is None:
        return
    again = decide(table, prefs, prompt_tokens=tokens)
    assert again.index == decision.index
    # The choice was made among the feasible models, or (after a fallback) among those
    # that only failed relaxable constraints.
    relaxable = np.array([r not in NEVER_RELAXED for r in decision.infeasible_reason])
    pool = relaxable if decision.fell_back else decision.feasible
    q, c, r = table.quality, table.cost_usd, table.runtime_s
    chosen = decision.index
    key = (-q[chosen], c[chosen], r[chosen], chosen)
    for j in np.flatnonzero(pool & (decision.utility == decision.utility[chosen])).tolist():
        assert key <= (-q[j], c[j], r[j], j)


@settings(max_examples=200)
@given(tables(), preferences(), prompt_sizes)
def test_ranking_orders_the_whole_pool_by_the_choice_rule(table, prefs, tokens) -> None:
    decision = _try(table, prefs, tokens)
    if decision is None:
        return
    relaxable = np.array([r not in NEVER_RELAXED for r in decision.infeasible_reason])
    pool = relaxable if decision.fell_back else decision.feasible
    assert decision.ranking[0] == decision.index
    assert sorted(decision.ranking) == np.flatnonzero(pool).tolist()
    u, q, c, r = decision.utility, table.quality, table.cost_usd, table.runtime_s
    keys = [(-u[i], -q[i], c[i], r[i], i) for i in decision.ranking]
    assert keys == sorted(keys)
