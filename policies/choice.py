"""The one choice rule: rank models by utility with a deterministic tie-break.

Within the pool, higher utility first; ties go to higher quality, then lower cost, then
lower runtime, then catalog order. ``rank_rows`` applies it to many prompts at once
(one row per prompt); the server's ``decide``, calibration, evaluation sweeps and batch
routing all choose through it, so they cannot disagree.
"""

from __future__ import annotations

import numpy as np

from policies.cost import quality_only_cost
from policies.types import BoolArray, FloatArray, IntArray


def utility(
    quality: FloatArray,
    cost_usd: FloatArray,
    runtime_s: FloatArray | None,
    cost_weight: float,
    latency_weight: float = 0.0,
) -> FloatArray:
    """``quality - cost_weight * cost_usd - latency_weight * runtime_s`` (any shape)."""
    value = np.array(quality, dtype=np.float64)
    if cost_weight:
        value -= cost_weight * cost_usd
    if latency_weight and runtime_s is not None:
        value -= latency_weight * runtime_s
    return value


def rank_rows(
    utility_values: FloatArray,
    quality: FloatArray,
    cost_usd: FloatArray,
    runtime_s: FloatArray | None = None,
    pool: BoolArray | None = None,
) -> IntArray:
    """Per row, column indices best first under the tie-break; pool members come first.

    All arrays are (n, m), or (m,) for one prompt (the server's case: no 2-d conversion),
    giving an (m,) ranking. Models outside ``pool`` (default: those with finite utility)
    sort after every pool member.
    """
    u = np.asarray(utility_values, dtype=np.float64)
    members = np.isfinite(u) if pool is None else np.asarray(pool) & np.isfinite(u)
    r = np.zeros_like(u) if runtime_s is None else runtime_s
    if u.ndim == 1:
        ranked = _rank_one(u, np.asarray(quality), np.asarray(cost_usd), np.asarray(r), members)
        if ranked is not None:
            return ranked
    keys = (
        np.broadcast_to(np.arange(u.shape[-1]), u.shape),
        np.where(members, r, np.inf),
        np.where(members, cost_usd, np.inf),
        np.where(members, -np.asarray(quality), np.inf),
        -np.where(members, u, -np.inf),
        ~members,
    )
    return np.lexsort(keys, axis=-1)


def _rank_one(
    u: FloatArray, quality: FloatArray, cost: FloatArray, runtime: FloatArray, members: BoolArray
) -> IntArray | None:
    """``rank_rows`` of one prompt as a sort of plain tuples (about half of ``lexsort``'s
    time for a dozen models), or ``None`` when a member has a NaN key, whose place
    ``lexsort`` settles. Members sort on (-utility, -quality, cost, runtime, index),
    the others after them by index, as the ``lexsort`` keys say."""
    keys: list[tuple[int, float, float, float, float, int]] = []
    columns = (members, u, quality, cost, runtime)
    rows = zip(*(column.tolist() for column in columns), strict=True)
    for j, (member, value, q, c, r) in enumerate(rows):
        if not member:
            keys.append((1, 0.0, 0.0, 0.0, 0.0, j))
        elif q != q or c != c or r != r:  # NaN
            return None
        else:
            keys.append((0, -value, -q, c, r, j))
    return np.array(sorted(range(len(keys)), key=keys.__getitem__), dtype=np.intp)


def best_index(
    utility_values: FloatArray,
    quality: FloatArray,
    cost_usd: FloatArray,
    runtime_s: FloatArray,
    pool: BoolArray,
) -> int:
    """``rank_rows(...)[0]`` for one prompt (1-d arrays): when one pool member has the
    highest utility it is the answer without sorting; ties go through ``rank_rows``.
    Models are few, so the scan is in plain Python (members' utilities are finite)."""
    values = utility_values.tolist()
    columns = [
        j for j, member in enumerate((pool & np.isfinite(utility_values)).tolist()) if member
    ]
    if columns:
        best = max(values[j] for j in columns)
        top = [j for j in columns if values[j] == best]
        if len(top) == 1:
            return top[0]
    return int(rank_rows(utility_values, quality, cost_usd, runtime_s, pool)[0])


def choose_rows(
    utility_values: FloatArray,
    quality: FloatArray,
    cost_usd: FloatArray,
    runtime_s: FloatArray | None = None,
    pool: BoolArray | None = None,
) -> IntArray:
    """Per row, the index of the best pool member (``rank_rows(...)[:, 0]``)."""
    ranked = rank_rows(np.atleast_2d(utility_values), quality, cost_usd, runtime_s, pool)
    return np.asarray(ranked[:, 0], dtype=np.int64)


def choose_at(quality: FloatArray, cost_usd: FloatArray, cost_weight: float) -> IntArray:
    """Per row, the choice at ``cost_weight`` (no latency term, no constraints); models
    with a NaN quality or cost are never chosen, except that a row where no model has a
    cost is quality-only (``policies.cost.quality_only_cost``). Calibration, evaluation
    sweeps and batch sweeps use it."""
    cost_usd = quality_only_cost(cost_usd)
    valid = np.isfinite(quality) & np.isfinite(cost_usd)
    value = utility(quality, np.where(valid, cost_usd, 0.0), None, cost_weight)
    return choose_rows(value, quality, cost_usd, pool=valid)
