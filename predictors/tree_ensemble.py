"""LightGBM boosters evaluated with numpy, for the few rows one decision scores.

``booster.predict`` costs ~0.1 ms of Python and ctypes overhead per call whatever the
input size, and one decision made 12 calls (one quality booster, eleven length
boosters); both predictors walk their trees here for small batches. ``TreeEnsemble``
flattens the trees of one or more boosters (from ``Booster.dump_model``) into node
arrays and walks every tree for every row at once, one depth level per step: the same
splits, the same missing-value rules, the same leaf values, so the raw scores equal
LightGBM's to ~1e-15 (the dump's decimal leaf values; checked against
``booster.predict`` in ``tests/predictors/test_tree_ensemble.py``).

Numerical ``<=`` splits and categorical ``==`` splits (left when the truncated value is one
of the split's categories; NaN and negative values right, as LightGBM 4) are supported;
``compile_boosters`` returns ``None`` for any other tree (linear trees) so callers fall
back to ``booster.predict``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]

#: LightGBM's threshold under which a value counts as zero (``kZeroThreshold``).
ZERO_THRESHOLD = 1e-35
_MISSING = {"None": 0, "Zero": 1, "NaN": 2}
#: Up to this many prompts, predict with the numpy tree walk (per-call overhead dominates).
NUMPY_MAX_ROWS = 64


class UnsupportedTreeError(ValueError):
    """A tree uses a split this evaluator does not implement (categorical, linear)."""


@dataclass(frozen=True, slots=True)
class TreeEnsemble:
    """Flattened trees; output ``k`` is the raw score of booster ``k``."""

    feature: IntArray
    threshold: FloatArray
    left: IntArray
    right: IntArray
    default_left: BoolArray
    missing: IntArray
    leaf: BoolArray
    value: FloatArray
    roots: IntArray
    #: First tree of each output, for ``np.add.reduceat`` over the tree axis.
    starts: IntArray
    depth: int
    #: Per node, its row of ``categories`` (categorical splits) or -1.
    category: IntArray
    #: ``categories[row, c]``: category ``c`` goes left at that categorical split.
    categories: BoolArray

    #: ``children[2 * node + goes_right]``: the node after ``node`` (a leaf: itself).
    children: IntArray

    def predict_raw(self, x: FloatArray) -> FloatArray:
        """(n, outputs) raw scores: the sum of each booster's leaf values."""
        x = np.asarray(x, dtype=np.float64)
        categorical = len(self.categories) > 0
        if not self.missing.any() and not categorical and not np.isnan(x).any():
            return self._predict_plain(x)
        rows = np.arange(len(x))[:, None]
        node = np.broadcast_to(self.roots, (len(x), len(self.roots))).copy()
        for _ in range(self.depth):
            value = x[rows, self.feature[node]]
            missing = self.missing[node]
            is_nan = np.isnan(value)
            value = np.where(is_nan & (missing != _MISSING["NaN"]), 0.0, value)
            absent = np.where(
                missing == _MISSING["NaN"],
                is_nan,
                (missing == _MISSING["Zero"]) & (np.abs(value) <= ZERO_THRESHOLD),
            )
            go_left = np.where(absent, self.default_left[node], value <= self.threshold[node])
            if categorical:
                go_left = self._categorical(node, x[rows, self.feature[node]], go_left)
            step = np.where(go_left, self.left[node], self.right[node])
            node = np.where(self.leaf[node], node, step)
        return np.add.reduceat(self.value[node], self.starts, axis=1)

    def _predict_plain(self, x: FloatArray) -> FloatArray:
        """``predict_raw`` without missing values or categorical splits: every (row, tree)
        pair walks one level per step through flat 1-d gathers. Leaves have threshold
        +inf and are their own children, so walking past one is a no-op."""
        n, n_trees = x.shape[0], len(self.roots)
        flat = x.reshape(-1)
        base = np.repeat(np.arange(n) * x.shape[1], n_trees)
        node = np.tile(self.roots, n)
        for _ in range(self.depth):
            goes_right = flat[base + self.feature[node]] > self.threshold[node]
            node = self.children[2 * node + goes_right]
        return np.add.reduceat(self.value[node].reshape(n, n_trees), self.starts, axis=1)

    def _categorical(self, node: IntArray, value: FloatArray, go_left: BoolArray) -> BoolArray:
        """``go_left`` with the categorical splits' own rule at categorical nodes."""
        row = self.category[node]
        code = np.trunc(np.where(np.isnan(value), -1.0, value))
        known = (row >= 0) & (code >= 0) & (code < self.categories.shape[1])
        member = np.zeros_like(go_left)
        member[known] = self.categories[row[known], code[known].astype(np.int64)]
        return np.where(row >= 0, member, go_left)


class _Builder:
    """Collects the nodes of many trees into flat lists."""

    def __init__(self) -> None:
        self.columns: dict[str, list[Any]] = {
            name: []
            for name in ("feature", "threshold", "left", "right", "default_left", "missing")
        }
        self.columns.update(leaf=[], value=[], category=[])
        self.category_sets: list[list[int]] = []
        self.depth = 0

    def add(self, node: dict[str, Any], depth: int) -> int:
        index = len(self.columns["leaf"])
        for values in self.columns.values():
            values.append(0)
        self._set(index, category=-1)
        if "leaf_value" in node:
            # A leaf passes every test and points at itself, so walking past it is a no-op.
            self._set(
                index, leaf=True, value=float(node["leaf_value"]), left=index, right=index,
                threshold=np.inf,
            )  # fmt: skip
            self.depth = max(self.depth, depth)
            return index
        if node.get("decision_type") == "==":
            self.category_sets.append([int(c) for c in str(node["threshold"]).split("||")])
            self._set(
                index, leaf=False, value=0.0, feature=int(node["split_feature"]),
                threshold=np.inf, category=len(self.category_sets) - 1,
            )  # fmt: skip
        elif node.get("decision_type") == "<=":
            self._set(
                index, leaf=False, value=0.0, feature=int(node["split_feature"]),
                threshold=float(node["threshold"]), default_left=bool(node["default_left"]),
                missing=_MISSING[str(node.get("missing_type", "None"))],
            )  # fmt: skip
        else:
            raise UnsupportedTreeError(f"unsupported split {node.get('decision_type')!r}")
        self._set(index, left=self.add(node["left_child"], depth + 1))
        self._set(index, right=self.add(node["right_child"], depth + 1))
        return index

    def _set(self, index: int, **values: Any) -> None:
        for name, value in values.items():
            self.columns[name][index] = value


def cached_ensemble(owner: Any, boosters: Sequence[Any]) -> TreeEnsemble | None:
    """``compile_boosters(boosters)``, compiled once and kept on ``owner`` until its
    boosters change (a refit or a load replaces the list)."""
    compiled: tuple[tuple[Any, ...], TreeEnsemble | None] | None
    compiled = getattr(owner, "_compiled_ensemble", None)
    seen = () if compiled is None else compiled[0]
    if (
        compiled is None
        or len(seen) != len(boosters)
        or any(a is not b for a, b in zip(seen, boosters, strict=False))
    ):
        compiled = (tuple(boosters), compile_boosters(boosters))
        owner._compiled_ensemble = compiled
    return compiled[1]


def compile_boosters(boosters: Sequence[Any]) -> TreeEnsemble | None:
    """One ``TreeEnsemble`` whose output ``k`` is ``boosters[k]``'s raw score, or ``None``
    when some tree cannot be evaluated here (or a booster has no trees)."""
    builder = _Builder()
    roots: list[int] = []
    starts: list[int] = []
    try:
        for booster in boosters:
            trees = booster.dump_model()["tree_info"]
            if not trees:
                return None
            starts.append(len(roots))
            roots.extend(builder.add(tree["tree_structure"], 0) for tree in trees)
    except UnsupportedTreeError:
        return None
    c = builder.columns
    return TreeEnsemble(
        feature=np.array(c["feature"], dtype=np.int64),
        threshold=np.array(c["threshold"], dtype=np.float64),
        left=np.array(c["left"], dtype=np.int64),
        right=np.array(c["right"], dtype=np.int64),
        default_left=np.array(c["default_left"], dtype=np.bool_),
        missing=np.array(c["missing"], dtype=np.int64),
        leaf=np.array(c["leaf"], dtype=np.bool_),
        value=np.array(c["value"], dtype=np.float64),
        roots=np.array(roots, dtype=np.int64),
        starts=np.array(starts, dtype=np.int64),
        depth=builder.depth,
        children=np.column_stack([c["left"], c["right"]]).astype(np.int64).reshape(-1),
        category=np.array(c["category"], dtype=np.int64),
        categories=_category_table(builder.category_sets),
    )


def _category_table(sets: list[list[int]]) -> BoolArray:
    """(len(sets), largest category + 1) membership table of the categorical splits."""
    width = max((max(row) + 1 for row in sets if row), default=0)
    table = np.zeros((len(sets), width), dtype=np.bool_)
    for row, members in enumerate(sets):
        table[row, members] = True
    return table
