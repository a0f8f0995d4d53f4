"""LightGBM helpers shared by the predictors.

``train_booster`` / ``predict_booster`` wrap LightGBM with deterministic single-threaded
settings; ``SingleRowPredictor`` scores one row at a time through LightGBM's own
low-overhead C entry point (the server's one prompt); ``logit`` / ``sigmoid`` are the
clipped link functions of the quality model (``predictors.stacked``).
"""

from __future__ import annotations

import ctypes
import weakref
from collections.abc import Sequence
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


class SingleRowPredictor:
    """Raw scores of rows, one booster call per (row, booster), via LightGBM's
    ``LGBM_BoosterPredictForMatSingleRowFast``.

    ``booster.predict`` spends ~0.06 ms per call in Python and in setting up a predictor;
    the fast single-row entry point is set up once per booster and then costs a few
    microseconds, with the same trees and the same C++ walk, so the same output bits
    (``tests/predictors/test_tree_ensemble.py``). LightGBM locks the booster per call,
    so concurrent use is safe. ``create`` returns ``None`` where the library lacks it.
    """

    def __init__(self, boosters: Sequence[Any], n_features: int) -> None:
        from lightgbm.basic import _LIB, _c_str, _safe_call

        self._call = _LIB.LGBM_BoosterPredictForMatSingleRowFast
        self._call.argtypes = [ctypes.c_void_p] * 4
        self._call.restype = ctypes.c_int
        self._check = _safe_call
        self.boosters = tuple(boosters)  # kept alive as long as their handles are used
        self.n_features = n_features
        self._handles: list[ctypes.c_void_p] = []
        free = _LIB.LGBM_FastConfigFree
        for booster in self.boosters:
            handle = ctypes.c_void_p()
            _safe_call(
                _LIB.LGBM_BoosterPredictForMatSingleRowFastInit(
                    booster._handle,
                    ctypes.c_int(1),
                    ctypes.c_int(0),
                    ctypes.c_int(-1),
                    ctypes.c_int(1),
                    ctypes.c_int32(n_features),
                    _c_str("num_threads=1"),
                    ctypes.byref(handle),
                )
            )  # fmt: skip  (raw score, all iterations, float64 rows)
            self._handles.append(handle)
            weakref.finalize(self, free, handle)
        self._length = ctypes.c_int64()

    @classmethod
    def create(cls, boosters: Sequence[Any], n_features: int) -> SingleRowPredictor | None:
        """A predictor, or ``None`` when this LightGBM build cannot make one."""
        try:
            return cls(boosters, n_features)
        except (AttributeError, OSError, ValueError, RuntimeError):
            return None

    def predict_raw(self, x: FloatArray) -> FloatArray:
        """(n, len(boosters)) raw scores of the rows of ``x``."""
        rows = np.ascontiguousarray(x, dtype=np.float64).reshape(-1, self.n_features)
        out = np.empty((len(rows), len(self._handles)), dtype=np.float64)
        length, call, check = ctypes.addressof(self._length), self._call, self._check
        row_bytes, out_at = rows.strides[0], out.ctypes.data
        for i in range(len(rows)):
            row = rows.ctypes.data + i * row_bytes
            for j, handle in enumerate(self._handles):
                check(call(handle, row, length, out_at + 8 * (i * len(self._handles) + j)))
        return out


def cached_single_row(
    owner: Any, boosters: Sequence[Any], n_features: int
) -> SingleRowPredictor | None:
    """``SingleRowPredictor.create(boosters, n_features)``, made once and kept on ``owner``
    until its boosters or the row width change."""
    cached: tuple[tuple[Any, ...], int, SingleRowPredictor | None] | None
    cached = getattr(owner, "_single_row", None)
    if (
        cached is None
        or cached[1] != n_features
        or len(cached[0]) != len(boosters)
        or any(a is not b for a, b in zip(cached[0], boosters, strict=False))
    ):
        cached = (tuple(boosters), n_features, SingleRowPredictor.create(boosters, n_features))
        owner._single_row = cached
    return cached[2]
