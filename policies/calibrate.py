"""Quality-target calibration: the cheapest ``cost_weight`` that keeps Q% of a reference.

Given eval data (n prompts x m models), choose per prompt with
``quality - cost_weight * cost`` through the one choice rule (``policies.choice``, as
``decide`` does) for every weight on a log grid, and keep the weight whose expected
cost is lowest among those whose mean realised quality is at least
``target x`` the reference model's mean. ``quality`` steers the choice (predicted or
recorded scores); ``realised`` scores it (recorded outcomes; defaults to ``quality``).
NaN marks a model with no result on a prompt; it is never chosen there.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from policies.choice import choose_at as choose_rows
from policies.types import FloatArray, IntArray

#: Default grid: 0 plus 10^-1 .. 10^7 quality points per USD, 8 steps per decade.
DEFAULT_GRID: FloatArray = np.concatenate([[0.0], np.logspace(-1, 7, 8 * 8 + 1)])


@dataclass(frozen=True, slots=True)
class CalibrationResult:
    """The chosen weight and what it does on the calibration data."""

    cost_weight: float
    reached: bool
    reference: str
    reference_quality: float
    reference_cost: float
    target_quality: float
    expected_quality: float
    expected_cost: float
    models: tuple[str, ...]
    #: Share of prompts routed to each model (sums to 1).
    share: FloatArray
    #: Mean realised quality of each model on the prompts routed to it (NaN if none).
    quality_when_chosen: FloatArray


def _outcome(chosen: IntArray, realised: FloatArray, cost: FloatArray) -> tuple[float, float]:
    rows = np.arange(len(chosen))
    return float(realised[rows, chosen].mean()), float(cost[rows, chosen].mean())


def calibrate(
    quality: FloatArray,
    cost: FloatArray,
    models: Sequence[str],
    reference: str,
    target: float,
    *,
    realised: FloatArray | None = None,
    grid: FloatArray = DEFAULT_GRID,
) -> CalibrationResult:
    """The least-cost weight on ``grid`` that reaches ``target`` x the reference quality.

    Rows where the reference or every model lacks a result should be dropped by the
    caller. When no weight reaches the target, the weight with the highest quality is
    returned with ``reached=False``.
    """
    names = tuple(models)
    if reference not in names:
        raise ValueError(f"reference model {reference!r} is not among {list(names)}")
    if not 0.0 < target <= 2.0:
        raise ValueError(f"target must be a fraction in (0, 2], got {target!r}")
    outcome_scores = quality if realised is None else realised
    ref = names.index(reference)
    ref_quality = float(np.nanmean(outcome_scores[:, ref]))
    goal = target * ref_quality
    outcomes = [_outcome(choose_rows(quality, cost, w), outcome_scores, cost) for w in grid]
    met = [i for i, (q, _) in enumerate(outcomes) if q >= goal]
    if met:
        # Lowest cost; among equal costs the larger weight (more headroom for savings).
        best = min(met, key=lambda i: (outcomes[i][1], -grid[i]))
    else:
        best = max(range(len(grid)), key=lambda i: (outcomes[i][0], -outcomes[i][1]))
    chosen = choose_rows(quality, cost, float(grid[best]))
    counts = np.bincount(chosen, minlength=len(names)).astype(np.float64)
    rows = np.arange(len(chosen))
    sums = np.bincount(chosen, weights=outcome_scores[rows, chosen], minlength=len(names))
    with np.errstate(invalid="ignore", divide="ignore"):
        when_chosen = np.where(counts > 0, sums / counts, np.nan)
    return CalibrationResult(
        cost_weight=float(grid[best]),
        reached=bool(met),
        reference=reference,
        reference_quality=ref_quality,
        reference_cost=float(np.nanmean(cost[:, ref])),
        target_quality=goal,
        expected_quality=outcomes[best][0],
        expected_cost=outcomes[best][1],
        models=names,
        share=counts / counts.sum(),
        quality_when_chosen=when_chosen,
    )
