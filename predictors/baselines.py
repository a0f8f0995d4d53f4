"""Baseline routers evaluated next to the learned one, on the same folds and costs.

Each ``*_quality`` function returns predicted quality for the test prompts (n_test x m);
the evaluation turns it into a sweep exactly like the learned router's.

* kNN (RouterBench style): each model's mean score over the k nearest training prompts.
* MLP: a one-hidden-layer scikit-learn MLP regressor from the embedding to all scores.
* task prior: each model's mean score on the prompt's task (uses the true task label,
  an upper bound on "recognise the task").
* best single: each model's mean training score for every prompt (at cost_weight 0 it
  always picks the model with the best training mean).
* oracle / random / single models / hull of single models are computed from the
  records directly in ``predictors.evaluate``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]


def _fill(scores: FloatArray) -> FloatArray:
    means = np.nanmean(scores, axis=0)
    return np.where(np.isnan(scores), means[None, :], scores)


def knn_quality(
    train_vectors: NDArray[np.float32],
    train_scores: FloatArray,
    test_vectors: NDArray[np.float32],
    k: int = 40,
) -> FloatArray:
    """Mean score of the k most similar training prompts (cosine)."""
    sims = test_vectors @ train_vectors.T
    k = min(k, sims.shape[1])
    top = np.argpartition(-sims, k - 1, axis=1)[:, :k]
    return _fill(train_scores)[top].mean(axis=1)


def mlp_quality(
    train_vectors: NDArray[np.float32],
    train_scores: FloatArray,
    test_vectors: NDArray[np.float32],
    random_state: int = 0,
) -> FloatArray:
    """One-hidden-layer MLP (128 units, early stopping from 50 training prompts)
    predicting every model's score."""
    from sklearn.neural_network import MLPRegressor

    mlp = MLPRegressor(
        hidden_layer_sizes=(128,),
        alpha=1e-3,
        early_stopping=len(train_vectors) >= 50,  # its 10 % validation split needs rows
        max_iter=300,
        random_state=random_state,
    )
    mlp.fit(train_vectors, _fill(train_scores))
    return np.clip(mlp.predict(test_vectors), 0.0, 1.0)


def task_prior_quality(
    train_tasks: Sequence[str], train_scores: FloatArray, test_tasks: Sequence[str]
) -> FloatArray:
    """Each model's mean training score on the prompt's task (global mean if unseen)."""
    overall = np.nanmean(train_scores, axis=0)
    tasks = np.array(train_tasks)
    by_task = {t: np.nanmean(train_scores[tasks == t], axis=0) for t in set(train_tasks)}
    return np.array([by_task.get(t, overall) for t in test_tasks]).reshape(len(test_tasks), -1)


def best_single_quality(train_scores: FloatArray, n_test: int) -> FloatArray:
    """Each model's mean training score, the same for every test prompt."""
    return np.tile(np.nanmean(train_scores, axis=0), (n_test, 1))
