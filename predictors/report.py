"""Writing and printing an evaluation report (``paretoroute train`` and ``eval`` alike).

``write_report`` writes ``metrics.json`` (strict JSON: no NaN, no infinity), the
accuracy plot and, where costs exist, ``pareto.png``; ``report_lines`` is the summary
both commands print, so ``train``'s CV and ``eval --cv`` show the same figures for the
same folds.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from predictors.evaluate import json_safe

#: Routers printed first, in this order; others follow alphabetically.
_ORDER = ("learned", "task-prior", "best-single", "knn", "mlp", "oracle")
ACCURACY = "accuracy_at_cost_weight_0"


def _ordered(names: list[str]) -> list[str]:
    return [n for n in _ORDER if n in names] + sorted(n for n in names if n not in _ORDER)


def write_report(report: dict[str, Any], out_dir: Path, title: str = "") -> list[Path]:
    """``metrics.json`` (without the raw curves), ``accuracy.png`` and, with costs,
    ``pareto.png``; returns the paths written."""
    from predictors.plot import plot_accuracy, plot_pareto

    out_dir.mkdir(parents=True, exist_ok=True)
    written = [out_dir / "metrics.json", out_dir / "accuracy.png"]
    plot_accuracy(report, written[1])
    if "curves" in report["overall"]:
        written.append(out_dir / "pareto.png")
        plot_pareto(report["overall"], written[2], title)
    slim = json_safe(report)
    for part in [slim["overall"], *slim["per_task"].values()]:
        part.pop("curves", None)
    text = json.dumps(slim, indent=1, allow_nan=False) + "\n"
    written[0].write_text(text, encoding="utf-8")
    return written


def _fold_note(report: dict[str, Any], name: str, metric: str) -> str:
    fold = report.get("per_fold", {}).get(name, {}).get(metric)
    return f" (fold mean {fold['mean']:.4f} ± {fold['std']:.4f})" if fold else ""


def report_lines(report: dict[str, Any]) -> list[str]:
    """Accuracy at cost_weight 0 (and AIQ where costs exist) per router, then per task."""
    routers = report["overall"]["routers"]
    lines = []
    for name in _ordered(list(routers)):
        values = routers[name]
        line = f"{name:>18}: accuracy@cw0 {values[ACCURACY]:.4f}" if ACCURACY in values else ""
        if "aiq" in values:
            line += f"{'' if line else f'{name:>18}:'}  AIQ {values['aiq']:.4f}"
            line += _fold_note(report, name, "aiq")
        lines.append(line)
    if report["cost_metrics"] != "reported":
        lines.append(f"cost metrics {report['cost_metrics']}")
    lines.append("accuracy at cost_weight 0 per task (learned | task-prior | best-single):")
    for task, part in report["per_task"].items():
        values = [part["routers"].get(n, {}).get(ACCURACY) for n in _ORDER[:3]]
        shown = " | ".join("-" if v is None else f"{v:.4f}" for v in values)
        lines.append(f"  {task or '(none)'} ({part['n_prompts']} prompts): {shown}")
    return lines
