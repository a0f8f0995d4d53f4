"""The per-model completion-length predictor, optional per model.

``LengthPredictor`` fits one LightGBM regressor per model on ``log1p(completion_tokens)``
(L2 regression) where the model has at least ``min_rows`` known lengths. Where it has
fewer (a data set with no token counts), the model's length is a documented prior,
constant for every prompt, and ``length_source_`` says which:

* ``learned``: the regressor;
* ``model-mean``: the mean of the model's few known lengths;
* ``pool-mean``: the mean known length of every model (the model has none);
* ``default``: ``DEFAULT_COMPLETION_TOKENS`` (no lengths in the data at all).

The quality model is ``predictors.stacked``.
"""

from __future__ import annotations

from typing import Any, Self

import numpy as np

from predictors.lgbm import FloatArray, predict_booster, train_booster
from predictors.lgbm_native import cached_native
from predictors.tree_ensemble import NUMPY_MAX_ROWS, TreeEnsemble, cached_ensemble

#: Completion tokens assumed when the data has no lengths at all (as ``PriorScorer``).
DEFAULT_COMPLETION_TOKENS = 256.0


def length_prior(tokens: FloatArray, j: int) -> tuple[float, str]:
    """(constant length, source) for model ``j`` when it has too few known lengths."""
    own = tokens[:, j][~np.isnan(tokens[:, j])]
    if len(own):
        return float(own.mean()), "model-mean"
    known = tokens[~np.isnan(tokens)]
    if len(known):
        return float(known.mean()), "pool-mean"
    return DEFAULT_COMPLETION_TOKENS, "default"


class LengthPredictor:
    """One LightGBM regressor per model on ``log1p(completion_tokens)``, or a prior."""

    def __init__(self, n_estimators: int = 80, learning_rate: float = 0.08, num_leaves: int = 7,
                 random_state: int = 0, min_rows: int = 20) -> None:  # fmt: skip
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.random_state = random_state
        self.min_rows = min_rows

    def _fit_one(self, x: FloatArray, tokens: FloatArray, j: int) -> tuple[Any, float, str]:
        if np.sum(~np.isnan(tokens[:, j])) < max(self.min_rows, 1):
            return (None, *length_prior(tokens, j))
        params = {"learning_rate": self.learning_rate, "num_leaves": self.num_leaves,
                  "min_data_in_leaf": 20}  # fmt: skip
        booster = train_booster(x, np.log1p(tokens[:, j]), params, "regression",
                                self.n_estimators, self.random_state)  # fmt: skip
        return booster, float(np.nanmean(tokens[:, j])), "learned"

    def fit(self, x: FloatArray, tokens: FloatArray) -> Self:
        """Train one regressor per column of ``tokens`` (NaN = unknown), or a prior."""
        fitted = [self._fit_one(x, tokens, j) for j in range(tokens.shape[1])]
        self.boosters_ = [booster for booster, _, _ in fitted]
        self.constant_tokens_ = np.array([c for _, c, _ in fitted], dtype=np.float64)
        self.length_source_ = tuple(source for _, _, source in fitted)
        return self

    def predict(self, x: FloatArray) -> FloatArray:
        """Predicted completion tokens (n x m), at least 1.

        Models with a prior length get it; the learned ones go, for one row (the server's
        prompt), through LightGBM's single-row C entry point with all boosters joined into
        one (``predictors.lgbm_native``), for a few rows through one numpy walk of all their
        trees (``predictors.tree_ensemble``: same values, one call instead of m), and for
        large batches through LightGBM itself.
        """
        learned = [j for j, booster in enumerate(self.boosters_) if booster is not None]
        single = None
        if learned and len(x) == 1:
            boosters = [self.boosters_[j] for j in learned]
            width, joined = x.shape[1], [0] * len(boosters)
            single = cached_native(self, boosters, width, shifts=joined) or cached_native(
                self, boosters, width
            )
        if single is not None and len(learned) == len(self.boosters_):
            return np.maximum(np.expm1(single.predict_raw(x)), 1.0)  # no constant column
        logs = np.repeat(np.log1p(self.constant_tokens_)[None, :], len(x), axis=0)
        if not learned:
            return np.maximum(np.expm1(logs), 1.0)
        ensemble = self._ensemble() if single is None and len(x) <= NUMPY_MAX_ROWS else None
        if single is not None:
            logs[:, learned] = single.predict_raw(x)
        elif ensemble is not None:
            logs[:, learned] = ensemble.predict_raw(x)
        else:
            logs[:, learned] = np.column_stack(
                [predict_booster(self.boosters_[j], x) for j in learned]
            )
        return np.maximum(np.expm1(logs), 1.0)

    def _ensemble(self) -> TreeEnsemble | None:
        return cached_ensemble(self, [b for b in self.boosters_ if b is not None])
