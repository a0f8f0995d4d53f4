"""The per-model completion-length predictor.

``LengthPredictor`` fits one LightGBM regressor per model on ``log1p(completion_tokens)``
(L2 regression); the quality model is ``predictors.stacked``.
"""

from __future__ import annotations

from typing import Self

import numpy as np

from predictors.lgbm import FloatArray, predict_booster, train_booster
from predictors.tree_ensemble import TreeEnsemble, compile_boosters

#: Up to this many rows, predict with the numpy tree walk (per-call overhead dominates).
NUMPY_MAX_ROWS = 64


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
        """Predicted completion tokens (n x m), at least 1.

        A few rows (the server's batches) go through one numpy walk of all boosters'
        trees (``predictors.tree_ensemble``: same values, one call instead of m); large
        batches through LightGBM itself.
        """
        ensemble = self._ensemble() if len(x) <= NUMPY_MAX_ROWS else None
        if ensemble is not None:
            logs = ensemble.predict_raw(x)
        else:
            logs = np.column_stack([predict_booster(b, x) for b in self.boosters_])
        return np.maximum(np.expm1(logs), 1.0)

    def _ensemble(self) -> TreeEnsemble | None:
        compiled = getattr(self, "_compiled", None)
        if compiled is None or compiled[0] is not self.boosters_:
            compiled = (self.boosters_, compile_boosters(self.boosters_))
            self._compiled = compiled
        return compiled[1]
