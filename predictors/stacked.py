"""``StackedQualityPredictor``: one LightGBM booster over (prompt, model) rows, residual to a prior.

Input layout of ``x`` (one row per prompt, m = number of models, K = ``n_neighbour_blocks``)::

    [ prior p0 (m) | K x (per-model neighbour success (m), mean similarity (1)) | extra ]

exactly what ``QualityModel`` builds from ``GroupPrior`` and ``FeatureBuilder.neighbours``.
Each prompt is expanded into m rows: model id (categorical), ``logit p0``, per k the
model's neighbour success relative to its prior (logit difference), per k the all-model
neighbour success relative to the all-model prior (a difficulty signal shared by every
model), per k the mean similarity, and the extra columns. The booster starts from
``init_score = logit(p0)`` so it learns only the residual, and the number of rounds is
chosen by an inner prompt-grouped CV on the training rows (0 rounds, i.e. the prior
itself, when boosting never lowers the held-out cross-entropy).
"""

from __future__ import annotations

from typing import Any, Self

import numpy as np
from numpy.typing import NDArray

from predictors.lgbm import booster_params, logit, predict_booster, sigmoid

FloatArray = NDArray[np.float64]


def expand_rows(x: FloatArray, n_models: int, n_blocks: int) -> tuple[FloatArray, FloatArray]:
    """(n * m, d) per-(prompt, model) features and the (n * m,) init score ``logit p0``."""
    n, m = len(x), n_models
    prior = x[:, :m]
    blocks = x[:, m : m + n_blocks * (m + 1)].reshape(n, n_blocks, m + 1)
    rates, sims = blocks[:, :, :m], blocks[:, :, m]
    extra = x[:, m + n_blocks * (m + 1) :]
    init = logit(prior)
    relative = (logit(rates) - init[:, None, :]).transpose(0, 2, 1).reshape(n * m, n_blocks)
    shared = rates.mean(axis=2) - prior.mean(axis=1, keepdims=True)
    columns = [
        np.tile(np.arange(m, dtype=np.float64), n)[:, None],
        init.reshape(-1, 1),
        relative,
        np.repeat(shared, m, axis=0),
        np.repeat(sims, m, axis=0),
        np.repeat(extra, m, axis=0),
    ]
    return np.hstack(columns), init.reshape(-1)


def _cross_entropy(y: FloatArray, raw: FloatArray) -> float:
    p = np.clip(sigmoid(raw), 1e-12, 1 - 1e-12)
    return float(np.mean(-(y * np.log(p) + (1 - y) * np.log(1 - p))))


class StackedQualityPredictor:
    """Residual LightGBM over (prompt, model) rows (see the module docstring)."""

    def __init__(
        self,
        n_neighbour_blocks: int = 3,
        max_rounds: int = 500,
        learning_rate: float = 0.03,
        num_leaves: int = 6,
        min_child_samples: int = 200,
        reg_lambda: float = 20.0,
        n_inner_folds: int = 4,
        random_state: int = 0,
    ) -> None:
        self.n_neighbour_blocks = n_neighbour_blocks
        self.max_rounds = max_rounds
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.min_child_samples = min_child_samples
        self.reg_lambda = reg_lambda
        self.n_inner_folds = n_inner_folds
        self.random_state = random_state

    def _params(self) -> dict[str, Any]:
        return booster_params(
            {
                "learning_rate": self.learning_rate, "num_leaves": self.num_leaves,
                "min_data_in_leaf": self.min_child_samples, "lambda_l2": self.reg_lambda,
                "feature_fraction": 0.8, "bagging_fraction": 0.8, "bagging_freq": 1,
            },
            "cross_entropy", self.random_state,
        )  # fmt: skip

    def _train(
        self, x: FloatArray, y: FloatArray, init: FloatArray, rounds: int, valid: Any = None
    ) -> Any:
        import lightgbm

        data = lightgbm.Dataset(x, label=y, init_score=init, categorical_feature=[0])
        if valid is None:
            return lightgbm.train(self._params(), data, num_boost_round=rounds)
        xv, yv, iv = valid
        held = lightgbm.Dataset(
            xv, label=yv, init_score=iv, reference=data, categorical_feature=[0]
        )
        record: dict[str, Any] = {}
        callbacks = [lightgbm.record_evaluation(record)]
        lightgbm.train(self._params(), data, rounds, valid_sets=[held], callbacks=callbacks)
        return np.array(record["valid_0"]["cross_entropy"])

    def choose_rounds(
        self, x: FloatArray, y: FloatArray, init: FloatArray, prompt: NDArray[np.intp]
    ) -> int:
        """Rounds minimising the inner-CV cross-entropy (prompt-grouped); 0 = keep the prior."""
        order = np.random.default_rng(self.random_state).permutation(int(prompt.max()) + 1)
        fold = order[prompt] % self.n_inner_folds
        curves, baseline = [], []
        for k in range(self.n_inner_folds):
            fit, held = fold != k, fold == k
            valid = (x[held], y[held], init[held])
            curves.append(self._train(x[fit], y[fit], init[fit], self.max_rounds, valid))
            baseline.append(_cross_entropy(y[held], init[held]))
        mean_curve = np.mean(curves, axis=0)
        self.inner_curve_ = mean_curve
        return int(np.argmin(mean_curve)) + 1 if mean_curve.min() < np.mean(baseline) else 0

    def fit(self, x: FloatArray, targets: FloatArray) -> Self:
        """Fit on per-prompt ``x`` (layout above) and scores ``targets`` (n x m, NaN = missing)."""
        self.n_models_ = targets.shape[1]
        rows, init = expand_rows(x, self.n_models_, self.n_neighbour_blocks)
        y = targets.reshape(-1)
        keep = ~np.isnan(y)
        prompt = np.repeat(np.arange(len(x)), self.n_models_)[keep]
        self.n_rounds_ = self.choose_rounds(rows[keep], y[keep], init[keep], prompt)
        self.booster_ = (
            self._train(rows[keep], y[keep], init[keep], self.n_rounds_) if self.n_rounds_ else None
        )
        return self

    def predict_proba(self, x: FloatArray) -> FloatArray:
        """Probability that each model answers well (n x m)."""
        rows, init = expand_rows(x, self.n_models_, self.n_neighbour_blocks)
        raw = (
            init if self.booster_ is None else init + predict_booster(self.booster_, rows, raw=True)
        )
        return sigmoid(raw).reshape(len(x), self.n_models_)
