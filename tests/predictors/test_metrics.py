"""Routing metrics against hand-checkable cases."""

import numpy as np
import pytest

from predictors import metrics


def test_monotone_hull_drops_dominated_and_concave_points() -> None:
    points = np.array([[1.0, 0.5], [2.0, 0.55], [3.0, 0.9], [4.0, 0.8]])
    hull = metrics.monotone_hull(points)
    assert hull.tolist() == [[1.0, 0.5], [3.0, 0.9]]


def test_aiq_of_flat_curve_is_its_quality() -> None:
    assert metrics.aiq(np.array([[1.0, 0.7]]), 1.0, 5.0) == pytest.approx(0.7)


def test_aiq_linear_segment_then_flat() -> None:
    # 0.5 -> 0.9 over [1, 3], flat 0.9 over [3, 5]: area (0.7 * 2 + 0.9 * 2) / 4 = 0.8
    points = np.array([[1.0, 0.5], [3.0, 0.9]])
    assert metrics.aiq(points, 1.0, 5.0) == pytest.approx(0.8, abs=1e-6)


def test_cost_to_reach_interpolates() -> None:
    points = np.array([[1.0, 0.5], [3.0, 0.9]])
    assert metrics.cost_to_reach(points, 0.7) == pytest.approx(2.0)
    assert metrics.cost_to_reach(points, 0.95) == float("inf")


def test_sweep_extremes_pick_best_and_cheapest() -> None:
    quality = np.array([[0.9, 0.5], [0.8, 0.6]])
    cost = np.array([[1.0, 0.1], [1.0, 0.1]])
    truth = np.array([[1.0, 0.0], [1.0, 1.0]])
    points = metrics.sweep(quality, cost, truth, cost, np.array([0.0, 1e6]))
    assert points.tolist() == [[1.0, 1.0], [0.1, 0.5]]


def test_apgr_perfect_and_cpt() -> None:
    strong = np.array([1.0, 1.0, 0.0, 1.0])
    weak = np.array([0.0, 1.0, 0.0, 1.0])
    perfect = strong - weak
    assert (
        metrics.cpt(perfect, strong, weak, 0.5) <= 0.25 < metrics.cpt(-perfect, strong, weak, 0.5)
    )
    assert metrics.apgr(perfect, strong, weak) > metrics.apgr(-perfect, strong, weak)


def test_brier_and_ece() -> None:
    pred = np.array([0.9, 0.1, 0.5])
    truth = np.array([1.0, 0.0, np.nan])
    assert metrics.brier(pred, truth) == pytest.approx(0.01)
    assert metrics.ece(pred, truth) == pytest.approx(0.1)
