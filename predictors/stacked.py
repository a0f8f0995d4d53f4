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

**Never worse than recognising the task.** The same inner CV gives every training row an
out-of-fold correction. Per group (task) the correction is kept only where its
out-of-fold choices at cost_weight 0 (each prompt's top model) score at least as well as
the prior's (the task prior's) by a paired margin of ``GATE_Z`` standard errors (equal
choices count as a win: the correction may still help at other cost weights);
elsewhere the group routes on its prior
(``gate_`` 0). A new prompt's correction is scaled by the gate of its recognised group
(``P(group | prompt) @ gate_``).
"""

from __future__ import annotations

from typing import Any, Self

import numpy as np
from numpy.typing import NDArray

from predictors.lgbm import booster_params, logit, predict_booster, sigmoid
from predictors.lgbm_native import cached_native
from predictors.tree_ensemble import NUMPY_MAX_ROWS, cached_ensemble

FloatArray = NDArray[np.float64]


def expand_rows(x: FloatArray, n_models: int, n_blocks: int) -> tuple[FloatArray, FloatArray]:
    """(n * m, d) per-(prompt, model) features and the (n * m,) init score ``logit p0``."""
    if len(x) == 1:
        return _expand_one(x[0], n_models, n_blocks)
    n, m = len(x), n_models
    end = m + n_blocks * (m + 1)
    prior = x[:, :m]
    blocks = x[:, m:end].reshape(n, n_blocks, m + 1)
    rates, sims = blocks[:, :, :m], blocks[:, :, m]
    extra = x[:, end:]
    logits = logit(x[:, :end])  # elementwise: one call for the prior and the rates
    init = logits[:, :m]
    rate_logits = logits[:, m:].reshape(n, n_blocks, m + 1)[:, :, :m]
    relative = (rate_logits - init[:, None, :]).transpose(0, 2, 1).reshape(n * m, n_blocks)
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


def _expand_one(x: FloatArray, m: int, n_blocks: int) -> tuple[FloatArray, FloatArray]:
    """``expand_rows`` of one prompt (1-d ``x``), written into one array: the same
    elementwise operations and means (float64 sum / count), without the 2-d stacking."""
    end = m + n_blocks * (m + 1)
    blocks = x[m:end].reshape(n_blocks, m + 1)
    logits = logit(x[:end])
    init = logits[:m]
    rows = np.empty((m, 2 + 3 * n_blocks + len(x) - end))
    rows[:, 0] = np.arange(m)
    rows[:, 1] = init
    rows[:, 2 : 2 + n_blocks] = (logits[m:].reshape(n_blocks, m + 1)[:, :m] - init).T
    shared = np.add.reduce(blocks[:, :m], axis=1) / m - np.add.reduce(x[:m]) / m
    rows[:, 2 + n_blocks : 2 + 2 * n_blocks] = shared
    rows[:, 2 + 2 * n_blocks : 2 + 3 * n_blocks] = blocks[:, m]
    rows[:, 2 + 3 * n_blocks :] = x[end:]
    return rows, init


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

    def _train(self, x: FloatArray, y: FloatArray, init: FloatArray, rounds: int) -> Any:
        import lightgbm

        data = lightgbm.Dataset(x, label=y, init_score=init, categorical_feature=[0])
        return lightgbm.train(self._params(), data, num_boost_round=rounds)

    def _train_curve(
        self, x: FloatArray, y: FloatArray, init: FloatArray, valid: tuple[FloatArray, ...]
    ) -> tuple[Any, FloatArray]:
        import lightgbm

        data = lightgbm.Dataset(x, label=y, init_score=init, categorical_feature=[0])
        xv, yv, iv = valid
        held = lightgbm.Dataset(
            xv, label=yv, init_score=iv, reference=data, categorical_feature=[0]
        )
        record: dict[str, Any] = {}
        callbacks = [lightgbm.record_evaluation(record)]
        booster = lightgbm.train(
            self._params(), data, self.max_rounds, valid_sets=[held], callbacks=callbacks
        )
        return booster, np.array(record["valid_0"]["cross_entropy"])

    def inner_cv(
        self, rows: FloatArray, y: FloatArray, init: FloatArray, keep: NDArray[np.bool_]
    ) -> tuple[int, FloatArray]:
        """Inner prompt-grouped CV on the training rows: the rounds minimising held-out
        cross-entropy (0 = keep the prior) and every row's out-of-fold correction (raw)
        at those rounds, for the per-group gate."""
        prompt = np.repeat(np.arange(len(rows) // self.n_models_), self.n_models_)
        order = np.random.default_rng(self.random_state).permutation(int(prompt[keep].max()) + 1)
        fold = np.zeros(len(rows), dtype=np.intp)
        known = prompt <= prompt[keep].max()
        fold[known] = order[prompt[known]] % self.n_inner_folds
        boosters, curves, baseline = [], [], []
        for k in range(self.n_inner_folds):
            fit, held = keep & (fold != k), keep & (fold == k)
            valid = (rows[held], y[held], init[held])
            booster, curve = self._train_curve(rows[fit], y[fit], init[fit], valid)
            boosters.append(booster)
            curves.append(curve)
            baseline.append(_cross_entropy(y[held], init[held]))
        mean_curve = np.mean(curves, axis=0)
        self.inner_curve_ = mean_curve
        rounds = int(np.argmin(mean_curve)) + 1 if mean_curve.min() < np.mean(baseline) else 0
        delta = np.zeros(len(rows))
        for k, booster in enumerate(boosters):
            if rounds and (fold == k).any():
                delta[fold == k] = predict_booster(
                    booster, rows[fold == k], raw=True, rounds=rounds
                )
        return rounds, delta

    def fit(
        self, x: FloatArray, targets: FloatArray, groups: NDArray[np.intp] | None = None
    ) -> Self:
        """Fit on per-prompt ``x`` (layout above) and scores ``targets`` (n x m, NaN =
        missing); with ``groups`` (one label per prompt) also the per-group gate."""
        self.n_models_ = targets.shape[1]
        rows, init = expand_rows(x, self.n_models_, self.n_neighbour_blocks)
        y = targets.reshape(-1)
        keep = ~np.isnan(y)
        self.n_rounds_, delta = self.inner_cv(rows, y, init, keep)
        self.booster_ = (
            self._train(rows[keep], y[keep], init[keep], self.n_rounds_) if self.n_rounds_ else None
        )
        labels = np.zeros(len(x), dtype=np.intp) if groups is None else np.asarray(groups)
        shape = targets.shape
        self.gate_, self.gate_accuracy_ = choose_gate(
            targets, init.reshape(shape), delta.reshape(shape), labels, bool(self.n_rounds_)
        )
        return self

    def predict_proba(self, x: FloatArray, weight: FloatArray | None = None) -> FloatArray:
        """Probability that each model answers well (n x m); ``weight`` (n,) scales the
        learned correction per prompt (the gate of its recognised group; default 1)."""
        rows, init = expand_rows(x, self.n_models_, self.n_neighbour_blocks)
        raw = init.reshape(len(x), self.n_models_)
        if self.booster_ is not None:
            delta = self._correction(rows).reshape(raw.shape)
            scale = np.ones(len(x)) if weight is None else np.asarray(weight, dtype=np.float64)
            raw = raw + scale[:, None] * delta
        return sigmoid(raw)

    def _correction(self, rows: FloatArray) -> FloatArray:
        """The booster's raw output, through LightGBM's C API without the Python wrapper
        (``predictors.lgbm_native``) when available: for one prompt, its m rows side by
        side through the booster joined m times over, one single-row call; else for a few
        prompts the numpy tree walk (``predictors.tree_ensemble``), else ``booster.predict``."""
        m, width = self.n_models_, rows.shape[1]
        if len(rows) == m:
            shifts = [j * width for j in range(m)]
            side_by_side = cached_native(self, [self.booster_] * m, m * width, shifts=shifts)
            if side_by_side is not None:
                return side_by_side.predict_raw(rows.reshape(1, -1))[0]
        native = cached_native(self, [self.booster_], width)
        if native is not None:
            return native.predict_raw(rows)[:, 0]
        if len(rows) <= NUMPY_MAX_ROWS * self.n_models_:
            ensemble = cached_ensemble(self, [self.booster_])
            if ensemble is not None:
                return ensemble.predict_raw(rows)[:, 0]
        return predict_booster(self.booster_, rows, raw=True)


#: The correction must beat the prior by this many standard errors (paired, per prompt).
GATE_Z = 2.0


def _picked(quality: FloatArray, targets: FloatArray) -> FloatArray:
    """Recorded score of each prompt's highest-quality model (cost_weight 0), NaN = none."""
    return targets[np.arange(len(targets)), np.argmax(quality, axis=1)]


def correction_wins(learned: FloatArray, prior: FloatArray) -> bool:
    """Paired per-prompt scores of the two choices: the correction is kept when it is not
    worse by chance, i.e. mean gain >= ``GATE_Z`` standard errors (equal choices: kept)."""
    keep = ~(np.isnan(learned) | np.isnan(prior))
    gain = learned[keep] - prior[keep]
    if len(gain) < 2:
        return bool(len(gain) == 0 or gain[0] >= 0)
    return bool(gain.mean() >= GATE_Z * gain.std(ddof=1) / np.sqrt(len(gain)))


def choose_gate(
    targets: FloatArray, init: FloatArray, delta: FloatArray, groups: NDArray[np.intp],
    learned: bool,
) -> tuple[FloatArray, FloatArray]:  # fmt: skip
    """Per group: 1.0 where the out-of-fold learned correction's choices at cost_weight 0
    are not worse than the prior's (the group mean: the task prior) beyond chance
    (``correction_wins``), else 0.0; and the (learned, prior) inner accuracies."""
    n_groups = int(groups.max()) + 1 if len(groups) else 1
    gate, accuracy = np.zeros(n_groups), np.full((n_groups, 2), np.nan)
    for g in range(n_groups):
        rows = groups == g
        if not rows.any():
            continue
        picks = _picked(init[rows] + delta[rows], targets[rows]), _picked(init[rows], targets[rows])
        accuracy[g] = [float(np.mean(p[~np.isnan(p)])) if (~np.isnan(p)).any() else np.nan
                       for p in picks]  # fmt: skip
        gate[g] = float(learned and correction_wins(*picks))
    return gate, accuracy
