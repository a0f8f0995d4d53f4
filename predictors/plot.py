"""Report plots (matplotlib Agg): the cost/quality hulls and accuracy at cost_weight 0.

``plot_pareto`` needs costs; its cost axis is logarithmic only when every plotted cost
is positive (a pool with free models gets a linear axis). ``plot_accuracy`` needs none.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from predictors.metrics import monotone_hull

_ROUTERS = ("learned", "task-prior", "knn", "mlp", "oracle", "single-model-hull")
_BARS = ("learned", "task-prior", "best-single", "knn", "mlp", "oracle")


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_pareto(overall: dict[str, Any], out: Path) -> None:
    """Plot the hulls of the main routers and the single-model points."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(8, 5.5))
    c_max = overall["cost_range"][1]
    lowest = np.inf
    for name in _ROUTERS:
        if name not in overall["curves"]:
            continue
        hull = monotone_hull(np.array(overall["curves"][name]))
        xs, ys = np.append(hull[:, 0], c_max), np.append(hull[:, 1], hull[-1, 1])
        lowest = min(lowest, float(xs.min()))
        aiq = overall["routers"][name]["aiq"]
        ax.plot(xs, ys, marker=".", label=f"{name} (AIQ {aiq:.3f})")
    for model, point in overall["single_models"].items():
        lowest = min(lowest, point["cost"])
        ax.scatter(point["cost"], point["quality"], color="black", s=12)
        ax.annotate(model.split("/")[-1], (point["cost"], point["quality"]), fontsize=6)
    if lowest > 0:
        ax.set_xscale("log")
    ax.set_xlabel("average cost per prompt (USD" + (", log)" if lowest > 0 else ")"))
    ax.set_ylabel("average quality")
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    fig.savefig(out, dpi=120)
    plt.close(fig)


def plot_accuracy(report: dict[str, Any], out: Path) -> None:
    """Grouped bars: accuracy at cost_weight 0 of each router, overall and per task."""
    plt = _pyplot()
    parts = {"overall": report["overall"], **report["per_task"]}
    names = [n for n in _BARS if n in report["overall"]["routers"]]
    fig, ax = plt.subplots(figsize=(max(6.0, 1.6 * len(parts)), 4.5))
    width = 0.8 / max(len(names), 1)
    for k, name in enumerate(names):
        values = [p["routers"].get(name, {}).get("accuracy_at_cost_weight_0", np.nan)
                  for p in parts.values()]  # fmt: skip
        ax.bar(np.arange(len(parts)) + k * width, values, width, label=name)
    ax.set_xticks(np.arange(len(parts)) + 0.4 - width / 2, [t or "(none)" for t in parts])
    ax.set_ylabel("mean score of the chosen model")
    ax.set_title("accuracy at cost_weight 0 (pure quality routing)")
    ax.legend(fontsize=8, ncols=3, loc="lower center")
    fig.tight_layout()
    fig.savefig(out, dpi=120)
    plt.close(fig)
