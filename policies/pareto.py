"""Exact Pareto front over (quality ↑, cost ↓, runtime ↓).

Models per request are few (tens), so the plain O(m²) pairwise comparison is exact,
branch-free in numpy and faster at this size than any O(m log m) sweep.
"""

from __future__ import annotations

import numpy as np

from policies.types import BoolArray, FloatArray


def pareto_front(
    quality: FloatArray,
    cost: FloatArray,
    runtime: FloatArray,
    mask: BoolArray | None = None,
) -> BoolArray:
    """Return which models are not dominated.

    Model ``j`` is dominated when some model ``i`` is at least as good on all three
    objectives (quality ≥, cost ≤, runtime ≤) and strictly better on one. Exact
    duplicates do not dominate each other, so every copy of a non-dominated point stays
    on the front (deterministic; the policy's tie-break then picks by catalog order).

    With ``mask``, only masked models take part: unmasked ones are never on the front
    and never dominate anything. A NaN objective never dominates and is never dominated
    by comparison; callers should mask such rows out.
    """
    q = np.asarray(quality, dtype=np.float64)
    c = np.asarray(cost, dtype=np.float64)
    r = np.asarray(runtime, dtype=np.float64)
    # weakly[i, j]: i is at least as good as j everywhere.
    weakly = q[:, None] >= q
    weakly &= c[:, None] <= c
    weakly &= r[:, None] <= r
    # With weakly[i, j] true, "not strictly better anywhere" means an exact tie, i.e.
    # weakly[j, i] as well.
    dominates = np.asarray(weakly & ~weakly.T, dtype=np.bool_)
    if mask is None:
        return np.asarray(~np.logical_or.reduce(dominates, axis=0), dtype=np.bool_)
    member = np.asarray(mask, dtype=np.bool_)
    dominated = np.logical_or.reduce(dominates & member[:, None], axis=0)  # .any(axis=0)
    return member & ~dominated
