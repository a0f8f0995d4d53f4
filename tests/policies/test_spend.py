"""The spend-rate controller on a synthetic traffic model: converges, stays calm."""

from __future__ import annotations

import numpy as np
import pytest

from policies.spend import SpendRateController

#: Six models from cheap-and-weak to dear-and-strong; one request per second.
COST_USD = np.array([2e-5, 1e-4, 5e-4, 2e-3, 8e-3, 2e-2])
BASE_QUALITY = np.array([0.5, 0.6, 0.7, 0.78, 0.85, 0.9])


def _simulate(controller: SpendRateController, seconds: int, seed: int = 0, start: int = 0):
    rng = np.random.default_rng(seed)
    weights, spent = np.empty(seconds), np.empty(seconds)
    for t in range(seconds):
        weight = controller.cost_weight(float(start + t))
        quality = BASE_QUALITY + rng.normal(0.0, 0.05, len(BASE_QUALITY))
        cost = COST_USD[int(np.argmax(quality - weight * COST_USD))]
        controller.observe(cost, float(start + t))
        weights[t], spent[t] = weight, cost
    return weights, spent


@pytest.mark.parametrize("target", [1.0, 5.0, 20.0])
def test_converges_to_the_target_spend_rate(target: float) -> None:
    weights, spent = _simulate(SpendRateController(target), 4 * 3600)
    last_hour = slice(-3600, None)
    assert spent[last_hour].sum() == pytest.approx(target, rel=0.1)
    # No wild oscillation: the weight moves by less than 1.5x over the last hour.
    assert weights[last_hour].max() / weights[last_hour].min() < 1.5


def test_unreachable_target_rests_on_the_clamp_without_winding_up() -> None:
    controller = SpendRateController(1000.0, min_cost_weight=1.0)  # max spend is $72/h
    weights, _ = _simulate(controller, 3600)
    assert weights[-1] == pytest.approx(1.0)
    assert controller.current_cost_weight == pytest.approx(1.0)
    # The integral froze at the clamp, so a lower target pulls the weight up promptly.
    controller.target_usd_per_hour = 1.0
    more, _ = _simulate(controller, 600, seed=1, start=3600)
    assert more[-1] > 10.0


def test_measured_rate_uses_the_sliding_window() -> None:
    controller = SpendRateController(1.0, window_s=100.0)
    for t in range(200):
        controller.observe(0.01, float(t))
    # The last 100 s hold 99 requests of $0.01 (the one at t=100 has just left).
    assert controller.spend_rate(200.0) == pytest.approx(0.99 / 100 * 3600)


def test_invalid_settings_are_rejected() -> None:
    with pytest.raises(ValueError, match="target_usd_per_hour"):
        SpendRateController(0.0)
    with pytest.raises(ValueError, match="min_cost_weight"):
        SpendRateController(1.0, initial_cost_weight=0.0)
