"""LightGBM helpers shared by the predictors.

``train_booster`` / ``predict_booster`` wrap LightGBM with deterministic single-threaded
settings (``predictors.lgbm_native`` calls the same predictions without the Python
wrapper's overhead); ``logit`` / ``sigmoid`` are the clipped link functions of the
quality model (``predictors.stacked``).
"""

from __future__ import annotations

from typing import Any

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


def predict_booster(
    booster: Any, x: FloatArray, raw: bool = False, rounds: int | None = None
) -> FloatArray:
    """Single-threaded prediction (the server's thread pool supplies the parallelism),
    from the first ``rounds`` trees if given."""
    out = booster.predict(x, num_threads=1, raw_score=raw, num_iteration=rounds)
    return np.asarray(out, dtype=np.float64)


def logit(p: FloatArray) -> FloatArray:
    """Log-odds of probabilities clipped to [1e-4, 1 - 1e-4]."""
    clipped = np.clip(p, 1e-4, 1 - 1e-4)
    return np.asarray(np.log(clipped / (1 - clipped)), dtype=np.float64)


def sigmoid(z: FloatArray) -> FloatArray:
    """Inverse of ``logit``."""
    return np.asarray(1.0 / (1.0 + np.exp(-z)), dtype=np.float64)
