"""The numpy tree walk gives LightGBM's own raw scores, missing values included."""

from __future__ import annotations

import numpy as np
import pytest

from predictors.length import LengthPredictor
from predictors.lgbm import train_booster
from predictors.tree_ensemble import compile_boosters


def _data(seed: int, n: int = 400) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 6))
    y = np.sin(x[:, 0]) + 0.5 * x[:, 1] * x[:, 2] + rng.normal(scale=0.1, size=n)
    return x, y


@pytest.mark.parametrize("with_nan", [False, True])
def test_raw_scores_match_lightgbm(with_nan: bool) -> None:
    x, y = _data(0)
    if with_nan:
        x[::7, 1] = np.nan  # trained with missing values: NaN-aware splits
    params = {"num_leaves": 7, "learning_rate": 0.1, "min_data_in_leaf": 5}
    boosters = [train_booster(x, y * k, params, "regression", 40, k) for k in (1, 2, 3)]
    ensemble = compile_boosters(boosters)
    assert ensemble is not None
    probe, _ = _data(1, 300)
    probe[::5, 1] = np.nan  # unseen missing values too
    probe[::9, 3] = 0.0
    expected = np.column_stack([b.predict(probe, num_threads=1) for b in boosters])
    np.testing.assert_allclose(ensemble.predict_raw(probe), expected, rtol=0, atol=1e-12)


def test_length_predictor_uses_it_for_small_batches_with_same_output() -> None:
    x, y = _data(2)
    tokens = np.column_stack([np.exp(3 + y), np.exp(4 - y)])
    model = LengthPredictor(n_estimators=30).fit(x, tokens)
    small = model.predict(x[:5])
    reference = np.maximum(
        np.expm1(np.column_stack([b.predict(x[:5], num_threads=1) for b in model.boosters_])), 1
    )
    np.testing.assert_allclose(small, reference, rtol=1e-12)
    assert model._ensemble() is not None
    # Large batches go through LightGBM and agree as well.
    np.testing.assert_allclose(model.predict(x)[:5], small, rtol=1e-12)
