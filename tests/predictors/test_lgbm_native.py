"""Boosters joined by ``merge_boosters`` give each booster's own LightGBM bits."""

from __future__ import annotations

import numpy as np

from predictors.artifact import load_scorer
from predictors.length import LengthPredictor
from predictors.lgbm import predict_booster, train_booster
from predictors.lgbm_native import NativePredictor, merge_boosters


def _data(seed: int, n: int = 400) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 6))
    x[::7, 1] = np.nan  # trained with missing values: NaN-aware splits
    y = np.sin(x[:, 0]) + 0.5 * np.nan_to_num(x[:, 1]) * x[:, 2] + rng.normal(scale=0.1, size=n)
    return x, y


def _probe(seed: int, n: int, width: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    probe = rng.normal(size=(n, width))
    probe[rng.random(probe.shape) < 0.05] = np.nan  # unseen missing values
    probe[rng.random(probe.shape) < 0.05] = 0.0
    return probe


def _assert_joined_matches(boosters: list, width: int) -> None:  # type: ignore[type-arg]
    merged = merge_boosters(boosters)
    assert merged is not None and merged.num_model_per_iteration() == len(boosters)
    joined = NativePredictor.create([merged], width)
    assert joined is not None and joined.width == len(boosters)
    probe = _probe(1, 300, width)
    expected = np.column_stack([predict_booster(b, probe, raw=True) for b in boosters])
    np.testing.assert_array_equal(joined.predict_raw(probe), expected)
    for i in range(len(probe)):  # one row at a time: the single-row entry point
        np.testing.assert_array_equal(joined.predict_raw(probe[i]), expected[i : i + 1])


def test_joined_trained_boosters_give_their_own_bits() -> None:
    x, y = _data(0)
    params = {"num_leaves": 7, "learning_rate": 0.1, "min_data_in_leaf": 5}
    boosters = [train_booster(x, y * k, params, "regression", 40, k) for k in (1, 2, 3)]
    _assert_joined_matches(boosters, x.shape[1])


def test_joined_shipped_length_boosters_give_their_own_bits() -> None:
    length = load_scorer().model.length  # type: ignore[attr-defined]
    boosters = [b for b in length.boosters_ if b is not None]
    _assert_joined_matches(boosters, boosters[0].num_feature())


def test_boosters_that_cannot_be_joined() -> None:
    x, y = _data(2)
    params = {"num_leaves": 7, "learning_rate": 0.1, "min_data_in_leaf": 5}
    short, long = (train_booster(x, y, params, "regression", n, 0) for n in (10, 20))
    assert merge_boosters([short, long]) is None  # unequal tree counts
    assert merge_boosters([short]) is None  # nothing to join
    joined = merge_boosters([short, short])
    assert joined is not None
    assert merge_boosters([joined, short]) is None  # already several outputs
    assert NativePredictor.create([joined, short], x.shape[1]) is None


def test_length_predictor_one_row_equals_lightgbm_with_a_prior_column() -> None:
    x, y = _data(3)
    tokens = np.column_stack([np.exp(3 + y), np.exp(4 - y), np.full(len(y), np.nan)])
    tokens[:5, 2] = 50.0  # too few lengths: a model-mean prior column
    model = LengthPredictor(n_estimators=30).fit(x, tokens)
    assert model.length_source_ == ("learned", "learned", "model-mean")
    probe = _probe(4, 40, x.shape[1])
    learned = np.column_stack([predict_booster(model.boosters_[j], probe) for j in (0, 1)])
    expected = np.maximum(
        np.expm1(np.column_stack([learned, np.full(len(probe), np.log1p(50.0))])), 1.0
    )
    for i in range(len(probe)):
        np.testing.assert_array_equal(model.predict(probe[i : i + 1]), expected[i : i + 1])


def test_shipped_quality_booster_side_by_side_gives_each_rows_bits() -> None:
    quality = load_scorer().model.quality  # type: ignore[attr-defined]
    booster, m = quality.booster_, quality.n_models_
    width = booster.num_feature()
    merged = merge_boosters([booster] * m, [j * width for j in range(m)])
    assert merged is not None and merged.num_feature() == m * width
    joined = NativePredictor.create([merged], m * width)
    assert joined is not None
    rows = _probe(5, 40 * m, width)
    rows[:, 0] = np.tile(np.arange(m), 40)  # the categorical model id, as expand_rows writes it
    rows[::17, 0] = np.nan  # and missing, which takes the categorical default
    expected = predict_booster(booster, rows, raw=True).reshape(40, m)
    for i in range(40):  # one prompt's m rows side by side
        wide = rows[i * m : (i + 1) * m].reshape(1, -1)
        np.testing.assert_array_equal(joined.predict_raw(wide), expected[i : i + 1])
