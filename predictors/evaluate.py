"""Evaluation report: every router's accuracy and sweep, overall, per task and per fold.

``summarize`` takes held-out predicted quality per router (the learned one and the
baselines), the predicted completion tokens and a price table, and returns a JSON-ready
dict. Every router gets ``accuracy_at_cost_weight_0`` (the mean recorded score of the
model it picks when cost does not count: pure quality routing), overall and per task.
Cost metrics (AIQ, cost to match the best single model, APGR/CPT) are reported only
where costs exist (``predictors.datacheck.has_costs`` after pricing missing cells from
the price table); otherwise ``cost_metrics`` says why they are missing.
``predictors.report`` writes the files. See ``predictors.metrics`` for the definitions.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from numpy.typing import NDArray

from predictors import metrics
from predictors.datacheck import has_costs
from predictors.price_fit import PriceTable, predicted_cost
from predictors.pricing import fill_costs
from predictors.records import RecordMatrix

FloatArray = NDArray[np.float64]
#: "Cheap" models cost at most this fraction of the best single model.
CHEAP_FRACTION = 0.1


def realised_cost(matrix: RecordMatrix) -> FloatArray:
    """Recorded cost, with a model's mean cost where a cell is missing."""
    means = np.nanmean(matrix.cost_usd, axis=0)
    return np.where(np.isnan(matrix.cost_usd), means[None, :], matrix.cost_usd)


def router_curves(
    matrix: RecordMatrix, quality: Mapping[str, FloatArray], pred_cost: FloatArray, seed: int = 0
) -> dict[str, FloatArray]:
    """(cost, quality) sweep points of every router plus oracle, random and single models."""
    cost, scores = realised_cost(matrix), matrix.scores
    curves = {name: metrics.sweep(q, pred_cost, scores, cost) for name, q in quality.items()}
    curves["oracle"] = metrics.sweep(np.nan_to_num(scores, nan=-1.0), cost, scores, cost)
    pick = np.random.default_rng(seed).integers(0, scores.shape[1], len(scores))
    rows = np.arange(len(scores))
    curves["random"] = np.array([[np.mean(cost[rows, pick]), np.nanmean(scores[rows, pick])]])
    curves["single-model-hull"] = np.column_stack(
        [np.nanmean(cost, axis=0), np.nanmean(scores, axis=0)]
    )
    return curves


def accuracy_at_zero(quality: FloatArray, pred_cost: FloatArray, scores: FloatArray) -> float:
    """Mean recorded score of the model each prompt gets at ``cost_weight`` 0 (as every
    sweep point: a prompt whose chosen model has no recorded score does not count)."""
    pick = metrics.choose(quality, pred_cost, 0.0)
    return float(np.nanmean(scores[np.arange(len(scores)), pick]))


def _curve_summary(points: FloatArray, singles: FloatArray, c_range: tuple[float, float]) -> dict:
    best = int(np.argmax(singles[:, 1]))
    cheap = singles[:, 0] <= CHEAP_FRACTION * singles[best, 0]
    cheap_cost = float(singles[cheap][np.argmax(singles[cheap, 1]), 0]) if cheap.any() else np.nan
    to_match = metrics.cost_to_reach(points, float(singles[best, 1]))
    hull = metrics.monotone_hull(points)
    return {
        "aiq": metrics.aiq(points, *c_range),
        "max_quality": float(points[:, 1].max()),
        "cost_to_match_best_single": to_match,
        "fraction_of_best_single_cost": to_match / float(singles[best, 0]),
        "quality_at_best_cheap_cost": float(metrics.hull_value(hull, cheap_cost)),
    }


def _accuracies(
    matrix: RecordMatrix, quality: Mapping[str, FloatArray], pred_cost: FloatArray
) -> dict[str, dict[str, float]]:
    accuracy = {name: {"accuracy_at_cost_weight_0": accuracy_at_zero(q, pred_cost, matrix.scores)}
                for name, q in quality.items()}  # fmt: skip
    accuracy["oracle"] = {"accuracy_at_cost_weight_0": float(np.mean(np.nanmax(matrix.scores, 1)))}
    return accuracy


def summarize_rows(
    matrix: RecordMatrix, quality: Mapping[str, FloatArray], pred_cost: FloatArray,
    with_costs: bool = True,
) -> dict[str, Any]:  # fmt: skip
    """Per-router summary on one set of prompts (cost range from its single models)."""
    means = np.nanmean(matrix.scores, axis=0)
    routers = _accuracies(matrix, quality, pred_cost)
    out: dict[str, Any] = {
        "n_prompts": len(matrix),
        "best_single": matrix.models[int(np.argmax(means))],
        "single_models": {
            m: {"quality": float(q)} for m, q in zip(matrix.models, means, strict=True)
        },
        "routers": routers,
    }
    if not with_costs:
        return out
    curves = router_curves(matrix, quality, pred_cost)
    singles = curves["single-model-hull"]
    c_range = (float(singles[:, 0].min()), float(singles[:, 0].max()))
    cheap = np.where(singles[:, 0] <= CHEAP_FRACTION * singles[int(np.argmax(means)), 0])[0]
    for name, points in curves.items():
        routers.setdefault(name, {}).update(_curve_summary(points, singles, c_range))
    for m, cost in zip(matrix.models, singles[:, 0], strict=True):
        out["single_models"][m]["cost"] = float(cost)
    best_cheap = matrix.models[cheap[np.argmax(singles[cheap, 1])]] if len(cheap) else None
    return {**out, "cost_range": list(c_range), "best_cheap": best_cheap,
            "curves": {name: p.tolist() for name, p in curves.items()}}  # fmt: skip


def pair_metrics(
    matrix: RecordMatrix, quality: Mapping[str, FloatArray], strong: str, weak: str
) -> dict[str, dict[str, float]]:
    """APGR and CPT(50 %)/CPT(80 %) of each router for one strong/weak pair."""
    s, w = matrix.models.index(strong), matrix.models.index(weak)
    keep = ~np.isnan(matrix.scores[:, s]) & ~np.isnan(matrix.scores[:, w])
    ys, yw = matrix.scores[keep, s], matrix.scores[keep, w]
    out = {}
    for name, q in quality.items():
        preference = q[keep, s] - q[keep, w]
        out[name] = {
            "apgr": metrics.apgr(preference, ys, yw),
            "cpt50": metrics.cpt(preference, ys, yw, 0.5),
            "cpt80": metrics.cpt(preference, ys, yw, 0.8),
        }
    return out


def calibration(matrix: RecordMatrix, quality: FloatArray) -> dict[str, dict[str, float]]:
    """Brier score and ECE of the learned router per model."""
    return {
        model: {
            "brier": metrics.brier(quality[:, j], matrix.scores[:, j]),
            "ece": metrics.ece(quality[:, j], matrix.scores[:, j]),
        }
        for j, model in enumerate(matrix.models)
    }


def summarize(
    matrix: RecordMatrix,
    quality: Mapping[str, FloatArray],
    tokens: FloatArray,
    prices: PriceTable,
    *,
    folds: NDArray[np.intp] | None = None,
    strong: str | None = None,
    weak: str | None = None,
) -> dict[str, Any]:
    """The full report: overall, per task, per fold (if ``folds``), pair and calibration.

    Missing recorded costs are priced from ``prices`` (predicted lengths where none is
    recorded); cost metrics need costs for every model (``has_costs``).
    """
    pred_cost = predicted_cost(matrix.models, prices, np.nan_to_num(matrix.prompt_tokens), tokens)
    matrix = fill_costs(matrix, prices, tokens)
    costs = has_costs(matrix)
    report: dict[str, Any] = {
        "cost_metrics": "reported" if costs else _NO_COSTS,
        "overall": summarize_rows(matrix, quality, pred_cost, costs),
        "per_task": {},
    }
    for task in sorted(set(matrix.tasks)):
        rows = np.array([i for i, t in enumerate(matrix.tasks) if t == task])
        sub = {n: q[rows] for n, q in quality.items()}
        report["per_task"][task] = summarize_rows(matrix.subset(rows), sub, pred_cost[rows], costs)
    if folds is not None:
        report["per_fold"] = _per_fold(matrix, quality, pred_cost, folds, costs)
    strong, weak = default_pair(matrix, strong, weak) if costs else (None, None)
    if strong and weak:
        report["pair"] = {"strong": strong, "weak": weak,
                          **pair_metrics(matrix, quality, strong, weak)}  # fmt: skip
    if "learned" in quality:
        report["calibration"] = calibration(matrix, quality["learned"])
    return report


_NO_COSTS = (
    "skipped: some model has no recorded cost and no price (give --catalog), or every cost "
    "is equal; quality-only metrics (accuracy at cost_weight 0) are reported"
)


def default_pair(
    matrix: RecordMatrix, strong: str | None, weak: str | None
) -> tuple[str | None, str | None]:
    """``strong``/``weak`` if they are models of the data; unset ones default to the
    best model (highest mean score) and the cheapest one (lowest mean cost)."""
    means = np.nanmean(matrix.scores, axis=0)
    costs = np.nanmean(matrix.cost_usd, axis=0)
    strong = strong if strong in matrix.models else matrix.models[int(np.argmax(means))]
    weak = weak if weak in matrix.models else matrix.models[int(np.argmin(costs))]
    return (strong, weak) if strong != weak else (None, None)


def _per_fold(
    matrix: RecordMatrix,
    quality: Mapping[str, FloatArray],
    pred_cost: FloatArray,
    folds: NDArray[np.intp],
    with_costs: bool,
) -> dict[str, Any]:
    per: dict[str, dict[str, list[float]]] = {}
    for k in sorted(set(folds.tolist())):
        rows = np.where(folds == k)[0]
        sub = summarize_rows(matrix.subset(rows), {n: q[rows] for n, q in quality.items()},
                             pred_cost[rows], with_costs)  # fmt: skip
        for name, values in sub["routers"].items():
            for metric in ("accuracy_at_cost_weight_0", "aiq"):
                if metric in values:
                    per.setdefault(name, {}).setdefault(metric, []).append(values[metric])
    stats: dict[str, Any] = {}
    for name, by_metric in per.items():
        stats[name] = {}
        for metric, values in by_metric.items():
            stats[name][metric] = {"folds": values, "mean": float(np.mean(values)),
                                   "std": float(np.std(values))}  # fmt: skip
    return stats


def json_safe(value: Any) -> Any:
    """``value`` with every non-finite float (NaN, inf) replaced by ``None``."""
    if isinstance(value, dict):
        return {key: json_safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(item) for item in value]
    if isinstance(value, float | np.floating):
        return float(value) if np.isfinite(value) else None
    if isinstance(value, np.integer):
        return int(value)
    return value
