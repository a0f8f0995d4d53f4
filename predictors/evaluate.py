"""Evaluation report: every router's sweep, AIQ and friends, overall, per task and per fold.

``summarize`` takes held-out predicted quality per router (the learned one and the
baselines), the predicted completion tokens and a price table, and returns a JSON-ready
dict; ``write_report`` adds ``metrics.json`` and ``pareto.png``. See
``predictors.metrics`` for the exact metric definitions.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from predictors import metrics
from predictors.price_fit import PriceTable, predicted_cost
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


def summarize_rows(
    matrix: RecordMatrix, quality: Mapping[str, FloatArray], pred_cost: FloatArray
) -> dict[str, Any]:
    """Per-router summary on one set of prompts (cost range from its single models)."""
    curves = router_curves(matrix, quality, pred_cost)
    singles = curves["single-model-hull"]
    c_range = (float(singles[:, 0].min()), float(singles[:, 0].max()))
    best = int(np.argmax(singles[:, 1]))
    cheap = np.where(singles[:, 0] <= CHEAP_FRACTION * singles[best, 0])[0]
    return {
        "n_prompts": len(matrix),
        "cost_range": list(c_range),
        "best_single": matrix.models[best],
        "best_cheap": matrix.models[cheap[np.argmax(singles[cheap, 1])]] if len(cheap) else None,
        "single_models": {
            m: {"cost": float(c), "quality": float(q)}
            for m, (c, q) in zip(matrix.models, singles, strict=True)
        },
        "routers": {name: _curve_summary(p, singles, c_range) for name, p in curves.items()},
        "curves": {name: p.tolist() for name, p in curves.items()},
    }


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
    """The full report: overall, per task, per fold (if ``folds``), pair and calibration."""
    pred_cost = predicted_cost(matrix.models, prices, np.nan_to_num(matrix.prompt_tokens), tokens)
    report = {"overall": summarize_rows(matrix, quality, pred_cost), "per_task": {}}
    for task in sorted(set(matrix.tasks)):
        rows = np.array([i for i, t in enumerate(matrix.tasks) if t == task])
        sub = {n: q[rows] for n, q in quality.items()}
        report["per_task"][task] = summarize_rows(matrix.subset(rows), sub, pred_cost[rows])
    if folds is not None:
        report["per_fold"] = _per_fold(matrix, quality, pred_cost, folds)
    if strong and weak:
        report["pair"] = {
            "strong": strong,
            "weak": weak,
            **pair_metrics(matrix, quality, strong, weak),
        }
    if "learned" in quality:
        report["calibration"] = calibration(matrix, quality["learned"])
    return report


def _per_fold(
    matrix: RecordMatrix,
    quality: Mapping[str, FloatArray],
    pred_cost: FloatArray,
    folds: NDArray[np.intp],
) -> dict[str, Any]:
    aiqs: dict[str, list[float]] = {}
    for k in sorted(set(folds.tolist())):
        rows = np.where(folds == k)[0]
        sub = summarize_rows(
            matrix.subset(rows), {n: q[rows] for n, q in quality.items()}, pred_cost[rows]
        )
        for name, values in sub["routers"].items():
            aiqs.setdefault(name, []).append(values["aiq"])
    stats = {n: {"aiq_folds": v, "mean": float(np.mean(v)), "std": float(np.std(v))}
             for n, v in aiqs.items()}  # fmt: skip
    if "learned" in aiqs:
        for name, values in aiqs.items():
            diff = np.array(aiqs["learned"]) - np.array(values)
            stats[name]["learned_minus_this_mean"] = float(diff.mean())
            stats[name]["learned_minus_this_std"] = float(diff.std())
    return stats


def write_report(report: dict[str, Any], out_dir: Path) -> None:
    """``metrics.json`` (without the raw curves) and ``pareto.png``."""
    from predictors.plot import plot_pareto

    out_dir.mkdir(parents=True, exist_ok=True)
    plot_pareto(report["overall"], out_dir / "pareto.png")
    slim = json.loads(json.dumps(report, default=float))
    for part in [slim["overall"], *slim["per_task"].values()]:
        part.pop("curves", None)
    (out_dir / "metrics.json").write_text(json.dumps(slim, indent=1) + "\n", encoding="utf-8")
