"""One conformance test over every predictor, plus prior and feature-builder behaviour."""

import numpy as np
import pytest

from predictors.features import FeatureBuilder, structure_features
from predictors.groups import GroupPrior
from predictors.length import LengthPredictor
from predictors.stacked import StackedQualityPredictor, expand_rows


def _data(n=160, m=3, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 6))
    p = 1 / (1 + np.exp(-x[:, :m] * 2))
    y = (rng.random((n, m)) < p).astype(float)
    y[0, 0] = np.nan
    return x, y


def _stacked_inputs(x, m=3, blocks=1):
    """Stacked layout: flat prior 0.5, a neighbour block carrying the signal, extra columns."""
    n = len(x)
    prior = np.full((n, m), 0.5)
    rates = 1 / (1 + np.exp(-x[:, :m]))
    return np.hstack([prior, *([rates, np.ones((n, 1))] * blocks), x[:, m:]])


@pytest.mark.parametrize(
    ("estimator", "method"),
    [
        (StackedQualityPredictor(n_neighbour_blocks=1, max_rounds=60, min_child_samples=20),
         "predict_proba"),
        (LengthPredictor(n_estimators=20), "predict"),
    ],
)  # fmt: skip
def test_estimator_conformance(estimator, method) -> None:
    x, y = _data(n=400)
    if method == "predict_proba":
        x, target = _stacked_inputs(x), y
    else:
        target = 1 + 50 * np.nan_to_num(y)
    params = dict(vars(estimator))
    assert estimator.fit(x, target) is estimator
    assert all(k.endswith("_") for k in set(vars(estimator)) - set(params))
    out = getattr(estimator, method)(x[:7])
    assert out.shape == (7, 3)
    assert np.all(np.isfinite(out))
    if method == "predict_proba":
        assert np.all((out >= 0) & (out <= 1))
        # the signal is in model j's neighbour rate: predictions should follow it
        full = estimator.predict_proba(x)
        assert np.corrcoef(full[:, 1], x[:, 4])[0, 1] > 0.5


def test_stacked_keeps_the_prior_when_features_are_noise() -> None:
    rng = np.random.default_rng(1)
    n, m = 300, 3
    prior = np.tile([0.8, 0.5, 0.2], (n, 1))
    y = (rng.random((n, m)) < prior).astype(float)
    x = np.hstack([prior, rng.random((n, m)), np.ones((n, 1)), rng.normal(size=(n, 2))])
    model = StackedQualityPredictor(n_neighbour_blocks=1, max_rounds=100).fit(x, y)
    pred = model.predict_proba(x)
    assert np.max(np.abs(pred.mean(axis=0) - prior[0])) < 0.05
    assert model.n_rounds_ < 100


def test_expand_rows_layout() -> None:
    prior = np.array([[0.9, 0.1]])
    rates = np.array([[0.9, 0.5]])
    rows, init = expand_rows(np.hstack([prior, rates, [[0.7]], [[3.0]]]), 2, 1)
    assert rows.shape == (2, 6)
    assert np.allclose(rows[:, 0], [0, 1])  # model id
    assert np.allclose(init, np.log(prior[0] / (1 - prior[0])))
    assert np.isclose(rows[0, 2], 0.0) and rows[1, 2] > 0  # rate vs own prior
    assert np.allclose(rows[:, 3], 0.7 - 0.5)  # all-model rate vs all-model prior
    assert np.allclose(rows[:, 4:], [[0.7, 3.0], [0.7, 3.0]])


def _grouped(n=120, seed=0):
    rng = np.random.default_rng(seed)
    tasks = ["code" if i % 3 == 0 else "trivia" for i in range(n)]
    structure = np.array([[1.0 if t == "code" else 0.0, rng.normal()] for t in tasks])
    vectors = rng.normal(size=(n, 8)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    p = np.array([[0.9, 0.2] if t == "code" else [0.3, 0.7] for t in tasks])
    return tasks, structure, vectors, (rng.random(p.shape) < p).astype(float)


def test_group_prior_recognises_tasks_and_gives_group_means() -> None:
    tasks, structure, vectors, scores = _grouped()
    prior = GroupPrior(smoothing=0.0).fit(vectors, structure, scores, tasks)
    code = np.array([t == "code" for t in tasks])
    assert np.array_equal(np.argmax(prior.group_proba(vectors, structure), axis=1), ~code)
    train = prior.train_prior()
    assert np.allclose(train[code], scores[code].mean(axis=0))  # own group, not leave-one-out
    assert np.allclose(prior.predict(vectors[:1], structure[:1]), train[:1], atol=0.05)


def test_group_prior_falls_back_to_clusters_without_tasks() -> None:
    _, structure, vectors, scores = _grouped()
    prior = GroupPrior(n_clusters=3).fit(vectors, structure, scores, [""] * len(vectors))
    assert prior.group_means_.shape == (3, 2)
    assert np.allclose(prior.group_proba(vectors, structure).sum(axis=1), 1.0)


def test_feature_builder_leave_one_out_and_shapes() -> None:
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(50, 8)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    scores = (rng.random((50, 2)) < 0.5).astype(float)
    structure = structure_features(["def f(): return 1"] * 50)
    builder = FeatureBuilder(ks=(1,), n_clusters=3, n_components=4)
    train = builder.fit_transform(vectors, scores, structure)
    assert train.shape == builder.transform(vectors, structure).shape
    assert builder.neighbour_columns(train).shape == (50, 3)
    # k=1 without leave-one-out sees itself; with it, it never does
    own = builder.neighbours(vectors)[:, :2]
    assert np.array_equal(own, scores)
    assert not np.array_equal(train[:, -3:-1], scores)


def test_feature_builder_neighbours_stay_within_group() -> None:
    vectors = np.eye(4, dtype=np.float32)[[0, 0, 1, 1]] + 0.01
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    scores = np.array([[1.0], [1.0], [0.0], [0.0]])
    groups = np.array([0, 0, 1, 1])
    builder = FeatureBuilder(ks=(2,), n_clusters=2, n_components=2).fit(vectors, scores, groups)
    # a query that looks like group 0 but belongs to group 1 sees only group 1's scores
    out = builder.neighbours(vectors[:1], groups=np.array([1]))
    assert out[0, 0] == 0.0


def test_structure_features_detect_code_and_options() -> None:
    feats = structure_features(["def f(x):\n    return x", "Pick one\nA) yes\nB) no"])
    assert feats[0, 7] > feats[1, 7]
    assert feats[1, 9] == 2
