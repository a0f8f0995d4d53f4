"""Unit tests of ``decide``: constraints, fallback, tie-break, reasons and errors."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from policies import NoFeasibleModel, Preferences, decide
from policies.choice import choose_at
from tests.policies.conftest import TableFactory


def test_zero_weights_pick_highest_quality(table_factory: TableFactory) -> None:
    table = table_factory([0.5, 0.9, 0.7], [1e-4, 1e-2, 1e-3], [1.0, 3.0, 2.0])
    decision = decide(table, Preferences(), prompt_tokens=10)
    assert decision.model == "model-1"
    assert "highest predicted quality" in decision.reason


def test_cost_weight_trades_quality_for_cost(table_factory: TableFactory) -> None:
    table = table_factory([0.5, 0.9, 0.7], [1e-4, 1e-2, 1e-3], [1.0, 3.0, 2.0])
    # Utilities at cost_weight=50: 0.495, 0.4, 0.65.
    decision = decide(table, Preferences(cost_weight=50.0), prompt_tokens=10)
    assert decision.model == "model-2"
    assert decision.reason.startswith("cost_weight=50")
    np.testing.assert_allclose(decision.utility, [0.495, 0.4, 0.65])


def test_latency_weight_decides_when_it_dominates(table_factory: TableFactory) -> None:
    table = table_factory([0.8, 0.9], [1e-3, 1e-3], [0.5, 5.0])
    decision = decide(table, Preferences(latency_weight=0.1), prompt_tokens=10)
    assert decision.model == "model-0"
    assert decision.reason.startswith("latency_weight=0.1")


def test_context_window_counts_prompt_and_max_tokens(table_factory: TableFactory) -> None:
    table = table_factory([0.9, 0.5], [1.0, 1.0], [1.0, 1.0], context_window=[4096, 32768])
    fits = decide(table, Preferences(), prompt_tokens=3000, max_output_tokens=1000)
    assert fits.model == "model-0"
    too_long = decide(table, Preferences(), prompt_tokens=3000, max_output_tokens=1097)
    assert too_long.model == "model-1"
    assert too_long.infeasible_reason == ("context_window", None)
    assert "context_window excluded model-0" in too_long.reason


def test_static_constraints_each_remove_their_model(table_factory: TableFactory) -> None:
    table = table_factory(
        [0.9, 0.8, 0.7, 0.6, 0.5],
        [1.0] * 5,
        [1.0] * 5,
        is_local=[False, True, True, True, True],
        params_b=[7.0, 70.0, np.nan, 13.0, 7.0],
        release=[date(2024, 1, 1), date(2024, 1, 1), date(2024, 1, 1), None, date(2023, 1, 1)],
        names=["hosted", "big", "unknown-size", "undated", "old"],
    )
    prefs = Preferences(local_only=True, max_params_b=20.0, min_release_date=date(2023, 6, 1))
    with pytest.raises(NoFeasibleModel) as caught:
        decide(table, prefs, prompt_tokens=1)
    assert caught.value.constraint == "min_release_date"
    assert caught.value.removed == {
        "local_only": 1,
        "max_params_b": 2,
        "min_release_date": 2,
    }
    assert "min_release_date removed the last 2 candidate(s) (undated, old)" in str(caught.value)


def test_allow_and_block_lists(table_factory: TableFactory) -> None:
    table = table_factory([0.9, 0.8, 0.7], [1.0] * 3, [1.0] * 3, names=["a", "b", "c"])
    prefs = Preferences(allowed_models=frozenset({"a", "b"}), blocked_models=frozenset({"a"}))
    decision = decide(table, prefs, prompt_tokens=1)
    assert decision.model == "b"
    assert decision.infeasible_reason == ("blocked_models", None, "allowed_models")
    assert decision.feasible.tolist() == [False, True, False]


def test_fallback_relaxes_budgets_but_not_block_list(table_factory: TableFactory) -> None:
    table = table_factory([0.9, 0.8], [2.0, 1.0], [1.0, 1.0], names=["a", "b"])
    prefs = Preferences(
        max_cost_usd=0.5, blocked_models=frozenset({"a"}), fallback_on_infeasible=True
    )
    decision = decide(table, prefs, prompt_tokens=1)
    assert decision.model == "b"
    assert decision.fell_back
    assert decision.failed_constraint == "max_cost_usd"
    assert not decision.feasible.any()
    assert decision.reason.startswith("fell back: max_cost_usd")


def test_fallback_still_needs_the_context_to_fit(table_factory: TableFactory) -> None:
    table = table_factory([0.9], [1.0], [1.0], context_window=[100])
    prefs = Preferences(fallback_on_infeasible=True)
    with pytest.raises(NoFeasibleModel) as caught:
        decide(table, prefs, prompt_tokens=101)
    assert caught.value.constraint == "context_window"


def test_missing_estimates_are_infeasible(table_factory: TableFactory) -> None:
    table = table_factory([0.9, 0.5], [np.nan, 1.0], [1.0, 1.0])
    decision = decide(table, Preferences(), prompt_tokens=1)
    assert decision.model == "model-1"
    assert decision.infeasible_reason[0] == "missing_estimate"


def test_a_pool_without_prices_routes_on_quality_only(table_factory: TableFactory) -> None:
    table = table_factory([0.4, 0.8, 0.6], [np.nan] * 3, [1.0, 1.0, 1.0])
    for prefs in (Preferences(), Preferences(cost_weight=1e6, max_cost_usd=1e-9)):
        decision = decide(table, prefs, prompt_tokens=1)
        assert decision.model == "model-1"
        assert all(decision.feasible)
        assert decision.reason.endswith("no model has a price: routed on quality only")
        assert [table.models[i] for i in decision.ranking] == ["model-1", "model-2", "model-0"]


def test_sweeps_treat_a_row_without_prices_as_quality_only() -> None:
    quality = np.array([[0.2, 0.9, 0.5], [0.2, 0.9, 0.5]])
    cost = np.array([[np.nan] * 3, [1.0, np.nan, 0.5]])
    assert choose_at(quality, cost, 1e6).tolist() == [1, 2]
    assert choose_at(quality, cost, 0.0).tolist() == [1, 2]


def test_ties_break_by_quality_cost_runtime_then_order(table_factory: TableFactory) -> None:
    # All four have utility 0.5 at cost_weight=1 (0.5 exact in binary).
    table = table_factory([0.75, 0.75, 0.75, 0.5], [0.25, 0.25, 0.25, 0.0], [2.0, 1.0, 1.0, 0.0])
    decision = decide(table, Preferences(cost_weight=1.0), prompt_tokens=1)
    assert decision.model == "model-1"


@pytest.mark.parametrize("weight", [-1.0, float("nan"), float("inf")])
def test_bad_weights_are_rejected(table_factory: TableFactory, weight: float) -> None:
    table = table_factory([0.9], [1.0], [1.0])
    with pytest.raises(ValueError, match="cost_weight"):
        decide(table, Preferences(cost_weight=weight), prompt_tokens=1)
