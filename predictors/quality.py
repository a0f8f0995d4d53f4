"""Per-model LightGBM quality predictors, calibrated on out-of-fold predictions.

``LightGBMQualityPredictor.fit(x, targets)`` trains one LightGBM booster per column of ``targets``
(n prompts x m models, scores in [0, 1], NaN where a model has no record) with the
cross-entropy objective, then fits a Platt calibrator per model on predictions made
out-of-fold (``n_calibration_folds``-fold, so the calibrator never sees in-sample
scores). ``predict_proba(x)`` returns the calibrated (n x m) matrix.
``LengthPredictor`` is the same shape for ``log1p(completion_tokens)`` (L2 regression).
"""

from __future__ import annotations

from typing import Any, Self

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]


def _booster_params(params: dict[str, Any], objective: str, seed: int) -> dict[str, Any]:
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
    return lightgbm.train(_booster_params(params, objective, seed), data, num_boost_round=rounds)


def predict_booster(booster: Any, x: FloatArray) -> FloatArray:
    """Single-threaded prediction (the server's thread pool supplies the parallelism)."""
    return np.asarray(booster.predict(x, num_threads=1), dtype=np.float64)


def _logit(p: FloatArray) -> FloatArray:
    clipped = np.clip(p, 1e-4, 1 - 1e-4)
    return np.log(clipped / (1 - clipped))


def _sigmoid(z: FloatArray) -> FloatArray:
    return 1.0 / (1.0 + np.exp(-z))


class LightGBMQualityPredictor:
    """One calibrated LightGBM classifier per model."""

    def __init__(
        self,
        n_estimators: int = 150,
        learning_rate: float = 0.03,
        num_leaves: int = 4,
        min_child_samples: int = 60,
        feature_fraction: float = 0.7,
        reg_lambda: float = 10.0,
        n_calibration_folds: int = 4,
        random_state: int = 0,
    ) -> None:
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.min_child_samples = min_child_samples
        self.feature_fraction = feature_fraction
        self.reg_lambda = reg_lambda
        self.n_calibration_folds = n_calibration_folds
        self.random_state = random_state

    def _params(self) -> dict[str, Any]:
        return {
            "learning_rate": self.learning_rate, "num_leaves": self.num_leaves,
            "min_data_in_leaf": self.min_child_samples, "feature_fraction": self.feature_fraction,
            "lambda_l2": self.reg_lambda,
        }  # fmt: skip

    def _oof(self, x: FloatArray, y: FloatArray) -> FloatArray:
        rng = np.random.default_rng(self.random_state)
        fold = rng.integers(0, self.n_calibration_folds, len(y))
        oof = np.full(len(y), np.nan)
        for k in range(self.n_calibration_folds):
            train = np.where(fold != k, y, np.nan)
            booster = train_booster(
                x, train, self._params(), "cross_entropy", self.n_estimators, self.random_state
            )
            oof[fold == k] = predict_booster(booster, x[fold == k])
        return oof

    def fit(self, x: FloatArray, targets: FloatArray) -> Self:
        """Train and calibrate one booster per column of ``targets``."""
        from sklearn.linear_model import LogisticRegression

        self.boosters_: list[Any] = []
        #: Per model, Platt scaling (slope, intercept) on the logit of the raw output.
        self.calibrators_: list[tuple[float, float]] = []
        for j in range(targets.shape[1]):
            y = targets[:, j]
            oof, keep = self._oof(x, y), ~np.isnan(y)
            platt = LogisticRegression(C=100.0).fit(_logit(oof[keep])[:, None], y[keep] >= 0.5)
            self.calibrators_.append((float(platt.coef_[0, 0]), float(platt.intercept_[0])))
            self.boosters_.append(
                train_booster(x, y, self._params(), "cross_entropy", self.n_estimators,
                              self.random_state)
            )  # fmt: skip
        self.n_models_ = targets.shape[1]
        return self

    def predict_raw(self, x: FloatArray) -> FloatArray:
        """Uncalibrated booster outputs (n x m)."""
        return np.column_stack([predict_booster(b, x) for b in self.boosters_])

    def predict_proba(self, x: FloatArray) -> FloatArray:
        """Calibrated probability that each model answers well (n x m)."""
        raw = self.predict_raw(x)
        return np.column_stack(
            [_sigmoid(a * _logit(raw[:, j]) + b) for j, (a, b) in enumerate(self.calibrators_)]
        ).reshape(len(x), self.n_models_)


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
