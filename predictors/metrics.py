"""Routing metrics: the cost sweep, AIQ, APGR / CPT, Brier score and ECE.

**Sweep.** For each ``cost_weight`` λ in ``cost_weight_grid()`` every prompt goes to
``argmax_j (q̂_ij - λ ĉ_ij)`` (predicted quality and predicted cost) under the server's
own choice rule and tie-break (``policies.choice``); the point is
(mean *recorded* cost, mean *recorded* score) of the chosen models.

**AIQ** (RouterBench, Hu et al. 2024): take the upper convex hull of a router's sweep
points, make it non-decreasing in cost (a router can always spend more without losing
quality by not using the extra budget), extend it flat from its last vertex to
``c_max``, and integrate it from ``c_min`` to ``c_max`` divided by ``c_max - c_min``.
Left of the router's cheapest point the curve is 0. In ``predictors.evaluate``
``[c_min, c_max]`` is the cost range spanned by the single models of the same data
(cheapest model's mean cost to most expensive model's mean cost), shared by every router.

**APGR / CPT** (RouteLLM, Ong et al. 2024): rank prompts by a router's preference for the
strong model; sending the top fraction f to the strong model gives quality q(f) and
``PGR(f) = (q(f) - q_weak) / (q_strong - q_weak)``. APGR is the mean of PGR over f on a
uniform grid of 0..100 % (trapezoid); ``CPT(x)`` the smallest fraction of calls to the
strong model with PGR ≥ x.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from policies.choice import choose_at

FloatArray = NDArray[np.float64]


def cost_weight_grid(n: int = 120) -> FloatArray:
    """0 plus log-spaced weights from 1e-2 to 1e7 quality points per USD."""
    return np.concatenate([[0.0], np.logspace(-2, 7, n - 1)])


#: Per prompt, the server's choice at one cost weight (the one rule, ``policies.choice``).
choose = choose_at


def sweep(
    pred_quality: FloatArray,
    pred_cost: FloatArray,
    true_score: FloatArray,
    true_cost: FloatArray,
    weights: FloatArray | None = None,
) -> FloatArray:
    """(len(weights), 2) array of (mean realised cost, mean realised score)."""
    rows = np.arange(len(true_score))
    points = []
    for weight in cost_weight_grid() if weights is None else weights:
        pick = choose(pred_quality, pred_cost, float(weight))
        points.append((np.nanmean(true_cost[rows, pick]), np.nanmean(true_score[rows, pick])))
    return np.array(points)


def monotone_hull(points: FloatArray) -> FloatArray:
    """Vertices of the non-decreasing upper convex hull of (cost, quality) points."""
    best = points[np.lexsort((-points[:, 1], points[:, 0]))]
    frontier = [best[0]]
    for point in best[1:]:
        if point[1] > frontier[-1][1]:
            frontier.append(point)
    hull: list[FloatArray] = []
    for point in frontier:
        while len(hull) >= 2 and _cross(hull[-2], hull[-1], point) >= 0:
            hull.pop()
        hull.append(point)
    return np.array(hull)


def _cross(a: FloatArray, b: FloatArray, c: FloatArray) -> float:
    return float((b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0]))


def hull_value(hull: FloatArray, cost: float | FloatArray) -> FloatArray:
    """The hull curve at ``cost``: 0 left of its first vertex, flat right of its last."""
    value = np.interp(cost, hull[:, 0], hull[:, 1], left=0.0, right=hull[-1, 1])
    return np.asarray(value, dtype=np.float64)


def aiq(points: FloatArray, c_min: float, c_max: float, resolution: int = 4001) -> float:
    """Area under the monotone hull over [c_min, c_max], divided by ``c_max - c_min``."""
    hull = monotone_hull(points)
    grid = np.linspace(c_min, c_max, resolution)
    return float(np.trapezoid(hull_value(hull, grid), grid) / (c_max - c_min))


def cost_to_reach(points: FloatArray, quality: float) -> float:
    """Smallest cost at which the router's hull reaches ``quality`` (inf if never)."""
    hull = monotone_hull(points)
    if hull[-1, 1] < quality:
        return float("inf")
    above = int(np.argmax(hull[:, 1] >= quality))
    if above == 0:
        return float(hull[0, 0])
    (c0, q0), (c1, q1) = hull[above - 1], hull[above]
    return float(c0 + (quality - q0) * (c1 - c0) / (q1 - q0))


def pgr_curve(
    preference: FloatArray, strong: FloatArray, weak: FloatArray, n_grid: int = 101
) -> tuple[FloatArray, FloatArray]:
    """(fractions to strong, PGR) when the top-``preference`` prompts go to the strong model."""
    order = np.argsort(-preference, kind="stable")
    n = len(order)
    fractions = np.linspace(0.0, 1.0, n_grid)
    gap = float(np.mean(strong) - np.mean(weak))
    pgr = []
    for fraction in fractions:
        to_strong = np.zeros(n, dtype=bool)
        to_strong[order[: round(fraction * n)]] = True
        quality = np.mean(np.where(to_strong, strong, weak))
        pgr.append((quality - np.mean(weak)) / gap if gap else 0.0)
    return fractions, np.array(pgr)


def apgr(preference: FloatArray, strong: FloatArray, weak: FloatArray) -> float:
    """Average performance-gap recovered over 0..100 % calls to the strong model."""
    fractions, pgr = pgr_curve(preference, strong, weak)
    return float(np.trapezoid(pgr, fractions))


def cpt(preference: FloatArray, strong: FloatArray, weak: FloatArray, target: float) -> float:
    """Smallest fraction of calls to the strong model whose PGR reaches ``target``."""
    fractions, pgr = pgr_curve(preference, strong, weak)
    reached = np.nonzero(pgr >= target - 1e-12)[0]
    return float(fractions[reached[0]]) if len(reached) else 1.0


def brier(pred: FloatArray, truth: FloatArray) -> float:
    """Mean squared error of probabilities against outcomes (NaN outcomes skipped)."""
    keep = ~np.isnan(truth)
    return float(np.mean((pred[keep] - truth[keep]) ** 2))


def ece(pred: FloatArray, truth: FloatArray, n_bins: int = 10) -> float:
    """Expected calibration error with equal-width bins (NaN outcomes skipped)."""
    keep = ~np.isnan(truth)
    p, y = pred[keep], truth[keep]
    bins = np.minimum((p * n_bins).astype(int), n_bins - 1)
    total = 0.0
    for b in range(n_bins):
        mask = bins == b
        if mask.any():
            total += mask.mean() * abs(p[mask].mean() - y[mask].mean())
    return float(total)
