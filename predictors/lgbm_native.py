"""LightGBM predictions through its C API directly, for the server's one prompt.

``booster.predict`` spends ~0.05 ms per call in Python (argument checks, conversions)
whatever the input size, and a decision scores 12 boosters (the quality booster on one
row per model, eleven length boosters on one row). ``NativePredictor`` makes the same
calls the wrapper ends in, with prepared arguments: ``LGBM_BoosterPredictForMat`` for
several rows (the quality rows: ~0.025 ms instead of ~0.055 ms) and, for a single row,
``LGBM_BoosterPredictForMatSingleRowFast`` set up once per booster (~5 µs per booster).
Same trees, same C++ walk, so the same output bits as ``booster.predict``
(``tests/predictors/test_tree_ensemble.py``).

``merge_boosters`` joins boosters of one output each, equal tree counts and equal
features into one booster with one output per booster (LightGBM's multi-output layout:
iteration i holds tree i of every output), so one call walks them all. Each output
still sums its own trees in the same order from zero: the same bits (~20 µs instead of
~40 µs for the eleven length boosters).

LightGBM locks a booster per call, so concurrent use is safe. ``lightgbm.basic._LIB`` is
private to the package, so ``NativePredictor.create`` returns ``None`` (callers fall
back) if it is missing.
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
    """Raw scores of ``boosters`` (each trained on ``n_features`` columns) for rows: one
    output each, or all the outputs of a single (possibly joined) booster."""

    def __init__(self, boosters: Sequence[Any], n_features: int) -> None:
        from lightgbm.basic import _LIB, _safe_call

        self.boosters = tuple(boosters)  # alive as long as the handles below are used
        self.n_features = n_features
        widths = [booster.num_model_per_iteration() for booster in boosters]
        if len(widths) > 1 and set(widths) != {1}:
            raise ValueError("several boosters must have one output each")
        #: Outputs per row: one per booster, or those of one multi-output booster.
        self.width = widths[0] if len(widths) == 1 else len(widths)
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
        """(n, width) raw scores of the rows of ``x``."""
        rows = np.ascontiguousarray(x, dtype=np.float64).reshape(-1, self.n_features)
        if len(self.boosters) == 1:  # one booster's outputs, row-major as LightGBM writes
            out = np.empty((len(rows), self.width), dtype=np.float64)
            self._into(0, rows, out.ctypes.data)
            return out
        out = np.empty((len(self.boosters), len(rows)), dtype=np.float64)
        for j in range(len(self.boosters)):
            self._into(j, rows, out.ctypes.data + j * out.strides[0])
        return out.T

    def _into(self, j: int, rows: FloatArray, at: int) -> None:
        """Booster ``j``'s outputs for ``rows``, written at address ``at``."""
        length, data = ctypes.addressof(self._length), rows.ctypes.data
        if len(rows) == 1:
            self._check(self._one(self._fast[j], data, length, at))
            return
        self._check(
            self._many(
                self.boosters[j]._handle, data, _FLOAT64, len(rows), self.n_features, _ROW_MAJOR,
                _RAW_SCORE, 0, _ALL_ITERATIONS, _PARAMETERS, length, at,
            )
        )  # fmt: skip


def merge_boosters(boosters: Sequence[Any], shifts: Sequence[int] | None = None) -> Any | None:
    """One booster whose output j is ``boosters[j]``'s raw score (see the module
    docstring), reading its features ``shifts[j]`` columns further right (default 0), or
    ``None`` when they cannot be joined. With shifts, the same booster k times over k
    rows laid side by side scores the k rows in one call."""
    import lightgbm

    shifts = [0] * len(boosters) if shifts is None else list(shifts)
    texts = [b.model_to_string(num_iteration=-1) for b in boosters]
    heads = [head for head in map(_header, texts) if head is not None]
    if len(boosters) < 2 or len(heads) < len(texts) or len(shifts) != len(texts):
        return None
    pairs = zip(texts, shifts, strict=True)
    trees = [[_shift(tree, shift) for tree in _trees(text)] for text, shift in pairs]
    if len({h[0] for h in heads}) != 1 or any(len(t) != heads[0][0] for t in trees):
        return None
    k, n_trees = len(boosters), heads[0][0]
    infos = ["none"] * max(shift + len(h[1]) for shift, h in zip(shifts, heads, strict=True))
    for shift, head in zip(shifts, heads, strict=True):
        infos[shift : shift + len(head[1])] = head[1]  # read by training only, not prediction
    names = " ".join(f"Column_{i}" for i in range(len(infos)))
    lines = [
        "tree", "version=v4", f"num_class={k}", f"num_tree_per_iteration={k}",
        "label_index=0", f"max_feature_idx={len(infos) - 1}",
        f"objective=multiclass num_class:{k}", f"feature_names={names}",
        f"feature_infos={' '.join(infos)}", "",
    ]  # fmt: skip
    for i in range(n_trees):
        for j in range(k):
            lines += [f"Tree={i * k + j}", trees[j][i], ""]
    lines += ["end of trees", ""]
    return lightgbm.Booster(model_str="\n".join(lines))


def _header(text: str) -> tuple[int, list[str]] | None:
    """(trees, feature_infos) of a one-output model text without linear trees, else None."""
    fields = dict(line.split("=", 1) for line in text.split("\n\n", 1)[0].splitlines()[1:])
    one = fields.get("num_tree_per_iteration") == "1" and fields.get("num_class") == "1"
    if not one or "\nis_linear=1" in text:
        return None
    infos = fields["feature_infos"].split(" ")
    if len(infos) != int(fields["max_feature_idx"]) + 1:
        return None
    return text.count("\nTree="), infos


def _trees(text: str) -> list[str]:
    """The body of every ``Tree=`` block of a model text, in order."""
    body = text.split("\nend of trees", 1)[0]
    return [block.split("\n", 1)[1].strip("\n") for block in body.split("\nTree=")[1:]]


def _shift(tree: str, shift: int) -> str:
    """A tree's text with its split features ``shift`` columns further right."""
    if not shift:
        return tree
    lines = tree.split("\n")
    for i, line in enumerate(lines):
        if line.startswith("split_feature="):
            features = line.removeprefix("split_feature=").split()
            lines[i] = "split_feature=" + " ".join(str(int(f) + shift) for f in features)
    return "\n".join(lines)


def cached_native(
    owner: Any, boosters: Sequence[Any], n_features: int, *, shifts: Sequence[int] | None = None
) -> NativePredictor | None:
    """``NativePredictor.create(boosters, n_features)``, or with ``shifts`` that of
    ``merge_boosters(boosters, shifts)`` (``None`` when they cannot be joined; then
    ``n_features`` is the joined row's width); made once and kept on ``owner`` until its
    boosters, the row width or the shifts change."""
    key = (tuple(boosters), n_features, None if shifts is None else tuple(shifts))
    cache: dict[tuple[Any, ...], NativePredictor | None] = getattr(owner, "_native", None) or {}
    if key not in cache:  # boosters hash and compare by identity
        if len(cache) >= 4:  # replaced boosters: forget the old ones
            cache = {}
        if shifts is None:
            cache[key] = NativePredictor.create(boosters, n_features)
        else:
            merged = _try_merge(boosters, shifts)
            cache[key] = NativePredictor.create([merged], n_features) if merged else None
        owner._native = cache
    return cache[key]


def _try_merge(boosters: Sequence[Any], shifts: Sequence[int]) -> Any | None:
    from lightgbm.basic import LightGBMError

    try:
        return merge_boosters(boosters, shifts)
    except (LightGBMError, ValueError, KeyError):
        return None
