"""LightGBM predictions through its C API directly, for the server's one prompt.

``booster.predict`` spends ~0.05 ms per call in Python (argument checks, conversions)
whatever the input size, and a decision scores 12 boosters (the quality booster on one
row per model, eleven length boosters on one row). ``NativePredictor`` makes the same
calls the wrapper ends in, with prepared arguments: ``LGBM_BoosterPredictForMat`` for
several rows (the quality rows: ~0.025 ms instead of ~0.055 ms) and, for a single row,
``LGBM_BoosterPredictForMatSingleRowFast`` set up once per booster (~5 µs per booster).
Same trees, same C++ walk, so the same output bits as ``booster.predict``
(``tests/predictors/test_tree_ensemble.py``). LightGBM locks a booster per call, so
concurrent use is safe. ``lightgbm.basic._LIB`` is private to the package, so
``NativePredictor.create`` returns ``None`` (callers fall back) if it is missing.
"""

from __future__ import annotations

import ctypes
import weakref
from collections.abc import Sequence
from typing import Any

import numpy as np

from predictors.lgbm import FloatArray

_FLOAT64, _ROW_MAJOR, _RAW_SCORE, _ALL_ITERATIONS = 1, 1, 1, -1
_PARAMETERS = b"num_threads=1"


class NativePredictor:
    """Raw scores of ``boosters`` (each trained on ``n_features`` columns) for rows."""

    def __init__(self, boosters: Sequence[Any], n_features: int) -> None:
        from lightgbm.basic import _LIB, _safe_call

        self.boosters = tuple(boosters)  # alive as long as the handles below are used
        self.n_features = n_features
        self._check = _safe_call
        self._many = _LIB.LGBM_BoosterPredictForMat
        self._many.argtypes = [ctypes.c_void_p, ctypes.c_void_p] + [ctypes.c_int] * 7 + [
            ctypes.c_char_p, ctypes.c_void_p, ctypes.c_void_p,
        ]  # fmt: skip
        self._one = _LIB.LGBM_BoosterPredictForMatSingleRowFast
        self._one.argtypes = [ctypes.c_void_p] * 4
        self._fast: list[ctypes.c_void_p] = []
        for booster in self.boosters:
            handle = ctypes.c_void_p()
            _safe_call(
                _LIB.LGBM_BoosterPredictForMatSingleRowFastInit(
                    booster._handle, ctypes.c_int(_RAW_SCORE), ctypes.c_int(0),
                    ctypes.c_int(_ALL_ITERATIONS), ctypes.c_int(_FLOAT64),
                    ctypes.c_int32(n_features), ctypes.c_char_p(_PARAMETERS),
                    ctypes.byref(handle),
                )
            )  # fmt: skip
            self._fast.append(handle)
            weakref.finalize(self, _LIB.LGBM_FastConfigFree, handle)
        self._length = ctypes.c_int64()

    @classmethod
    def create(cls, boosters: Sequence[Any], n_features: int) -> NativePredictor | None:
        """A predictor, or ``None`` when this LightGBM build cannot make one."""
        try:
            return cls(boosters, n_features)
        except (AttributeError, ImportError, OSError, ValueError, RuntimeError):
            return None

    def predict_raw(self, x: FloatArray) -> FloatArray:
        """(n, len(boosters)) raw scores of the rows of ``x``."""
        rows = np.ascontiguousarray(x, dtype=np.float64).reshape(-1, self.n_features)
        out = np.empty((len(self.boosters), len(rows)), dtype=np.float64)
        length, data, at = ctypes.addressof(self._length), rows.ctypes.data, out.ctypes.data
        step = out.strides[0]
        if len(rows) == 1:
            for j, handle in enumerate(self._fast):
                self._check(self._one(handle, data, length, at + j * step))
            return out.T
        for j, booster in enumerate(self.boosters):
            self._check(
                self._many(
                    booster._handle, data, _FLOAT64, len(rows), self.n_features, _ROW_MAJOR,
                    _RAW_SCORE, 0, _ALL_ITERATIONS, _PARAMETERS, length, at + j * step,
                )
            )  # fmt: skip
        return out.T


def cached_native(owner: Any, boosters: Sequence[Any], n_features: int) -> NativePredictor | None:
    """``NativePredictor.create(boosters, n_features)``, made once and kept on ``owner``
    until its boosters or the row width change."""
    cached: tuple[tuple[Any, ...], int, NativePredictor | None] | None
    cached = getattr(owner, "_native", None)
    if (
        cached is None
        or cached[1] != n_features
        or len(cached[0]) != len(boosters)
        or any(a is not b for a, b in zip(cached[0], boosters, strict=False))
    ):
        cached = (tuple(boosters), n_features, NativePredictor.create(boosters, n_features))
        owner._native = cached
    return cached[2]
