"""Prompt-grouped k-fold cross-validation of the learned router and the baselines.

Rows of a ``RecordMatrix`` are prompts, so splitting rows splits prompts; rows with the
same prompt text are additionally kept in the same fold. Every router is fitted on the
same training folds and predicts the same held-out prompts; the learned model's length
predictions are used as the predicted completion tokens of every router, so they differ
only in predicted quality.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from predictors.baselines import (
    best_single_quality,
    knn_quality,
    mlp_quality,
    task_prior_quality,
)
from predictors.features import structure_features
from predictors.pipeline import QualityModel
from predictors.prompts import last_user_text
from predictors.records import RecordMatrix

FloatArray = NDArray[np.float64]
Progress = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class CrossValResult:
    """Out-of-fold predictions for every prompt and router."""

    folds: NDArray[np.intp]
    #: router name → (n, m) out-of-fold predicted quality.
    quality: dict[str, FloatArray]
    #: (n, m) out-of-fold predicted completion tokens (learned length predictor).
    completion_tokens: FloatArray


def prompt_folds(matrix: RecordMatrix, n_folds: int, seed: int = 0) -> NDArray[np.intp]:
    """Fold index per row; identical prompt texts always share a fold."""
    keys = [hashlib.sha256(repr(p).encode()).hexdigest() for p in matrix.prompts]
    unique = sorted(set(keys))
    order = np.random.default_rng(seed).permutation(len(unique))
    fold_of = {unique[i]: rank % n_folds for rank, i in enumerate(order)}
    return np.array([fold_of[k] for k in keys], dtype=np.intp)


def structure_of(matrix: RecordMatrix) -> FloatArray:
    """Structure features of the full last user turn of every prompt."""
    return structure_features([last_user_text(p) for p in matrix.prompts])


def cross_validate(
    matrix: RecordMatrix,
    vectors: NDArray[np.float32],
    n_folds: int = 5,
    seed: int = 0,
    make_model: Callable[[], QualityModel] = QualityModel,
    on_fold: Progress | None = None,
) -> CrossValResult:
    """Fit the learned model and the baselines per fold; collect held-out predictions."""
    folds = prompt_folds(matrix, n_folds, seed)
    structure = structure_of(matrix)
    names = ("learned", "knn", "mlp", "task-prior", "best-single")
    quality = {name: np.full(matrix.scores.shape, np.nan) for name in names}
    tokens = np.full(matrix.scores.shape, np.nan)
    for k in range(n_folds):
        train, test = np.where(folds != k)[0], np.where(folds == k)[0]
        scores = matrix.scores[train]
        model = make_model().fit(
            vectors[train], structure[train], scores, matrix.completion_tokens[train],
            [matrix.tasks[i] for i in train],
        )  # fmt: skip
        quality["learned"][test], tokens[test] = model.predict(vectors[test], structure[test])
        quality["knn"][test] = knn_quality(vectors[train], scores, vectors[test])
        quality["mlp"][test] = mlp_quality(vectors[train], scores, vectors[test], seed)
        quality["task-prior"][test] = task_prior_quality(
            [matrix.tasks[i] for i in train], scores, [matrix.tasks[i] for i in test]
        )
        quality["best-single"][test] = best_single_quality(scores, len(test))
        if on_fold is not None:
            on_fold(f"fold {k + 1}/{n_folds}")
    return CrossValResult(folds, quality, tokens)
