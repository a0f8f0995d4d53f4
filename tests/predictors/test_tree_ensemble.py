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
    np.testing.assert_array_equal(model.predict(x[2:3]), reference[2:3])  # single row
    # Large batches go through LightGBM and agree as well.
    np.testing.assert_allclose(model.predict(x)[:5], small, rtol=1e-12)


def test_shipped_quality_booster_matches_lightgbm() -> None:
    from predictors.artifact import load_scorer
    from predictors.lgbm import predict_booster
    from predictors.stacked import expand_rows

    model = load_scorer().model  # type: ignore[attr-defined]
    quality = model.quality
    rng = np.random.default_rng(3)
    n_inputs = quality.n_models_ * (1 + quality.n_neighbour_blocks) + quality.n_neighbour_blocks
    x = rng.uniform(0.05, 0.95, size=(40, n_inputs + 12))
    rows, _ = expand_rows(x, quality.n_models_, quality.n_neighbour_blocks)
    expected = predict_booster(quality.booster_, rows, raw=True)
    np.testing.assert_array_equal(quality._correction(rows), expected)
    np.testing.assert_array_equal(quality._correction(rows[:11]), expected[:11])
    ensemble = compile_boosters([quality.booster_])
    assert ensemble is not None
    np.testing.assert_allclose(ensemble.predict_raw(rows)[:, 0], expected, rtol=0, atol=1e-12)
    assert np.ptp(expected) > 0.01  # the probe reaches different leaves


def test_stacked_predictor_walks_small_batches_with_lightgbm_output() -> None:
    from predictors.stacked import StackedQualityPredictor, expand_rows

    rng = np.random.default_rng(4)
    n, m = 300, 3
    signal = rng.normal(size=(n, m))
    rates = 1 / (1 + np.exp(-signal))
    x = np.hstack([np.full((n, m), 0.5), rates, np.ones((n, 1)), rng.normal(size=(n, 2))])
    targets = (rng.random((n, m)) < rates).astype(float)
    model = StackedQualityPredictor(n_neighbour_blocks=1, max_rounds=60, min_child_samples=20)
    model.fit(x, targets)
    assert model.booster_ is not None
    rows, init = expand_rows(x, m, 1)
    reference = 1 / (1 + np.exp(-(init + model.booster_.predict(rows, raw_score=True))))
    expected = reference.reshape(n, m)
    np.testing.assert_array_equal(model.predict_proba(x), expected)  # LightGBM's C API
    natives = vars(model)["_native"]  # kept by predictors.lgbm_native.cached_native
    assert all(native is not None for native in natives.values())
    np.testing.assert_array_equal(model.predict_proba(x[:10]), expected[:10])
    single = np.vstack([model.predict_proba(x[i : i + 1]) for i in range(10)])
    np.testing.assert_array_equal(single, expected[:10])
    assert len(natives) == 2  # one prompt: its rows side by side, one joined booster
    ensemble = compile_boosters([model.booster_])  # the fallback without the C API
    assert ensemble is not None
    walked = 1 / (1 + np.exp(-(init + ensemble.predict_raw(rows)[:, 0])))
    np.testing.assert_allclose(walked.reshape(n, m), expected, rtol=0, atol=1e-12)


def test_native_predictor_gives_lightgbm_bits() -> None:
    from predictors.lgbm_native import NativePredictor

    x, y = _data(6)
    x[::7, 1] = np.nan
    params = {"num_leaves": 7, "learning_rate": 0.1, "min_data_in_leaf": 5}
    boosters = [train_booster(x, y * k, params, "regression", 40, k) for k in (1, 2)]
    single = NativePredictor.create(boosters, x.shape[1])
    assert single is not None
    probe, _ = _data(7, 50)
    probe[::5, 1] = np.nan
    expected = np.column_stack([b.predict(probe, num_threads=1, raw_score=True) for b in boosters])
    np.testing.assert_array_equal(single.predict_raw(probe), expected)
    np.testing.assert_array_equal(single.predict_raw(probe[3]), expected[3:4])  # one row


def test_categorical_splits_match_lightgbm() -> None:
    import lightgbm

    rng = np.random.default_rng(5)
    x = np.column_stack([rng.integers(0, 7, 3000).astype(float), rng.normal(size=3000)])
    y = np.isin(x[:, 0], [1, 4, 5]) * 2.0 + x[:, 1] + rng.normal(scale=0.1, size=3000)
    params = {"verbosity": -1, "num_leaves": 5, "min_data_per_group": 5, "cat_smooth": 1.0,
              "num_threads": 1, "seed": 0}  # fmt: skip
    data = lightgbm.Dataset(x, label=y, categorical_feature=[0])
    booster = lightgbm.train(params, data, num_boost_round=20)
    ensemble = compile_boosters([booster])
    assert ensemble is not None and len(ensemble.categories) > 0
    probe = np.column_stack([rng.integers(-2, 10, 400).astype(float), rng.normal(size=400)])
    probe[::11, 0] = np.nan
    probe[::13, 0] += 0.6  # non-integer codes truncate
    probe[::17, 1] = np.nan
    expected = booster.predict(probe, num_threads=1)
    np.testing.assert_allclose(ensemble.predict_raw(probe)[:, 0], expected, rtol=0, atol=1e-12)
