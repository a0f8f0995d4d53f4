"""LightGBM helpers shared by the predictors, and the per-model completion-length predictor.

``train_booster`` / ``predict_booster`` wrap LightGBM with deterministic single-threaded
settings; ``logit`` / ``sigmoid`` are the clipped link functions of the quality model
(``predictors.stacked``). ``LengthPredictor`` fits one LightGBM regressor per model on
``log1p(completion_tokens)`` (L2 regression).
"""

from __future__ import annotations

from typing import Any, Self

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]


def booster_params(params: dict[str, Any], objective: str, seed: int) -> dict[str, Any]:
    """LightGBM parameters: ``params`` on top of quiet, deterministic, one-thread defaults."""
    return {
        "objective": objective, "verbosity": -1, "num_threads": 1, "seed": seed,
        "deterministic": True, "force_col_wise": True, **params,
    }  # fmt: skip


def train_booster(
    x: FloatArray, y: FloatArray, params: dict[str, Any], objective: str, rounds: int, seed: int
) -> Any:
    """One LightGBM booster on the rows of ``y`` that are not NaN."""
    import lightgbm

    keep = ~np.isnan(y)
    data = lightgbm.Dataset(x[keep], label=y[keep], free_raw_data=True)
    return lightgbm.train(booster_params(params, objective, seed), data, num_boost_round=rounds)


def predict_booster(booster: Any, x: FloatArray, raw: bool = False) -> FloatArray:
    """Single-threaded prediction (the server's thread pool supplies the parallelism)."""
    return np.asarray(booster.predict(x, num_threads=1, raw_score=raw), dtype=np.float64)


def logit(p: FloatArray) -> FloatArray:
    """Log-odds of probabilities clipped to [1e-4, 1 - 1e-4]."""
    clipped = np.clip(p, 1e-4, 1 - 1e-4)
    return np.asarray(np.log(clipped / (1 - clipped)), dtype=np.float64)


def sigmoid(z: FloatArray) -> FloatArray:
    """Inverse of ``logit``."""
    return np.asarray(1.0 / (1.0 + np.exp(-z)), dtype=np.float64)


class LengthPredictor:
    """One LightGBM regressor per model on ``log1p(completion_tokens)``."""

    def __init__(self, n_estimators: int = 80, learning_rate: float = 0.08, num_leaves: int = 7,
                 random_state: int = 0) -> None:  # fmt: skip
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.random_state = random_state

    def fit(self, x: FloatArray, tokens: FloatArray) -> Self:
        """Train one regressor per column of ``tokens`` (NaN = unknown)."""
        params = {"learning_rate": self.learning_rate, "num_leaves": self.num_leaves,
                  "min_data_in_leaf": 20}  # fmt: skip
        self.boosters_ = [
            train_booster(x, np.log1p(tokens[:, j]), params, "regression", self.n_estimators,
                          self.random_state)
            for j in range(tokens.shape[1])
        ]  # fmt: skip
        return self

    def predict(self, x: FloatArray) -> FloatArray:
        """Predicted completion tokens (n x m), at least 1."""
        logs = np.column_stack([predict_booster(b, x) for b in self.boosters_])
        return np.maximum(np.expm1(logs), 1.0)
