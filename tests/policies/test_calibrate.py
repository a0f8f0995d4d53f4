"""Quality-target calibration on synthetic eval tables."""

from __future__ import annotations

import numpy as np
import pytest

from policies.calibrate import DEFAULT_GRID, calibrate, choose_rows

MODELS = ("cheap", "mid", "reference")


def _table(seed: int = 0, n: int = 2000):
    rng = np.random.default_rng(seed)
    difficulty = rng.random(n)[:, None]
    skill = np.array([0.55, 0.75, 0.9])[None, :]
    quality = np.clip(skill - 0.5 * difficulty + 0.25 + rng.normal(0, 0.05, (n, 3)), 0, 1)
    realised = (rng.random((n, 3)) < quality).astype(np.float64)
    cost = np.tile([1e-4, 1e-3, 1e-2], (n, 1))
    return quality, cost, realised


def test_reaches_the_target_at_least_cost_on_the_grid() -> None:
    quality, cost, realised = _table()
    result = calibrate(quality, cost, MODELS, "reference", 0.95, realised=realised)
    assert result.reached
    assert result.expected_quality >= 0.95 * result.reference_quality
    assert result.expected_cost < result.reference_cost
    assert result.share.sum() == pytest.approx(1.0)
    # No weight on the grid meets the target more cheaply.
    rows = np.arange(len(quality))
    for weight in DEFAULT_GRID:
        chosen = choose_rows(quality, cost, float(weight))
        if realised[rows, chosen].mean() >= result.target_quality:
            assert cost[rows, chosen].mean() >= result.expected_cost


def test_lower_targets_never_cost_more() -> None:
    quality, cost, realised = _table(seed=1)
    costs = [
        calibrate(quality, cost, MODELS, "reference", t, realised=realised).expected_cost
        for t in (0.8, 0.9, 0.95, 1.0)
    ]
    assert costs == sorted(costs)


def test_hand_computed_two_prompt_table() -> None:
    quality = np.array([[0.5, 1.0], [1.0, 1.0]])
    cost = np.array([[1.0, 2.0], [1.0, 2.0]])
    # Target 100 % of model b (quality 1.0) needs prompt 0 on b: weight < 0.5.
    result = calibrate(quality, cost, ("a", "b"), "b", 1.0, grid=np.array([0.0, 0.25, 1.0]))
    assert result.cost_weight == 0.25
    assert result.expected_cost == 1.5
    assert result.share.tolist() == [0.5, 0.5]


def test_unreachable_target_reports_best_effort() -> None:
    quality = np.array([[0.5, 0.6]])
    cost = np.array([[1.0, 2.0]])
    result = calibrate(quality, cost, ("a", "b"), "b", 1.5)
    assert not result.reached
    assert result.expected_quality == 0.6


def test_missing_results_are_never_chosen() -> None:
    quality = np.array([[np.nan, 0.5], [0.9, 0.5]])
    cost = np.array([[0.0, 1.0], [1.0, 1.0]])
    assert choose_rows(quality, cost, 0.0).tolist() == [1, 0]


def test_unknown_reference_is_rejected() -> None:
    with pytest.raises(ValueError, match="reference model"):
        calibrate(np.ones((1, 1)), np.ones((1, 1)), ("a",), "z", 0.9)
