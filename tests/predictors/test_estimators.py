"""One conformance test over every predictor, plus feature-builder behaviour."""

import numpy as np
import pytest

from predictors.features import FeatureBuilder, structure_features
from predictors.quality import LengthPredictor, LightGBMQualityPredictor


def _data(n=160, m=3, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 6))
    p = 1 / (1 + np.exp(-x[:, :m] * 2))
    y = (rng.random((n, m)) < p).astype(float)
    y[0, 0] = np.nan
    return x, y


@pytest.mark.parametrize(
    ("estimator", "method"),
    [
        (LightGBMQualityPredictor(n_estimators=20, min_child_samples=5), "predict_proba"),
        (LengthPredictor(n_estimators=20), "predict"),
    ],
)
def test_estimator_conformance(estimator, method) -> None:
    x, y = _data()
    target = y if method == "predict_proba" else 1 + 50 * y
    params = dict(vars(estimator))
    assert estimator.fit(x, target) is estimator
    assert all(k.endswith("_") for k in set(vars(estimator)) - set(params))
    out = getattr(estimator, method)(x[:7])
    assert out.shape == (7, 3)
    assert np.all(np.isfinite(out))
    if method == "predict_proba":
        assert np.all((out >= 0) & (out <= 1))
        # the signal is in column j of x for model j: predictions should follow it
        full = estimator.predict_proba(x)
        assert np.corrcoef(full[:, 1], x[:, 1])[0, 1] > 0.5


def test_feature_builder_leave_one_out_and_shapes() -> None:
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(50, 8)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    scores = (rng.random((50, 2)) < 0.5).astype(float)
    structure = structure_features(["def f(): return 1"] * 50)
    builder = FeatureBuilder(ks=(1,), n_clusters=3, n_components=4)
    train = builder.fit_transform(vectors, scores, structure)
    assert train.shape == builder.transform(vectors, structure).shape
    # k=1 without leave-one-out sees itself; with it, it never does
    own = builder.neighbours(vectors)[:, :2]
    assert np.array_equal(own, scores)
    assert not np.array_equal(train[:, -3:-1], scores)


def test_structure_features_detect_code_and_options() -> None:
    feats = structure_features(["def f(x):\n    return x", "Pick one\nA) yes\nB) no"])
    assert feats[0, 7] > feats[1, 7]
    assert feats[1, 9] == 2
