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


_STYLE: dict[str, dict[str, Any]] = {
    "learned": {"color": "tab:red", "linewidth": 2.4, "marker": "o", "markersize": 3, "zorder": 6},
    "task-prior": {"color": "tab:blue", "linewidth": 1.4, "linestyle": "--", "zorder": 5},
    "knn": {"color": "tab:green", "linewidth": 1.2, "linestyle": "-."},
    "mlp": {"color": "tab:purple", "linewidth": 1.2, "linestyle": ":"},
    "oracle": {"color": "grey", "linewidth": 1.0, "linestyle": (0, (1, 3))},
    "single-model-hull": {"color": "black", "linewidth": 1.0, "linestyle": "-", "alpha": 0.5},
}
AIQ_NOTE = (
    "AIQ: area under a router's cost-quality hull over the single models' cost range, "
    "divided by that range (higher is better; RouterBench's metric)."
)


def _hull_points(overall: dict[str, Any], name: str) -> tuple[Any, Any]:
    hull = monotone_hull(np.array(overall["curves"][name]))
    c_max = overall["cost_range"][1]
    return np.append(hull[:, 0], c_max), np.append(hull[:, 1], hull[-1, 1])


def _top_without_oracle(overall: dict[str, Any]) -> float:
    tops = [p["quality"] for p in overall["single_models"].values()]
    for name in _ROUTERS:
        if name != "oracle" and name in overall["curves"]:
            tops.append(float(np.max(np.array(overall["curves"][name])[:, 1])))
    return max(tops)


def plot_pareto(overall: dict[str, Any], out: Path, title: str = "") -> None:
    """The routers' cost-quality hulls and the single models, legend outside the axes.

    The learned router is drawn last and thickest so a baseline on the same curve cannot
    hide it; the oracle's curve, far above the rest, is cut at the top of the others and
    says so in its legend entry.
    """
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(11, 6))
    top = _top_without_oracle(overall) + 0.03
    lowest = np.inf
    for name in sorted(_ROUTERS, key=lambda n: n == "learned"):
        if name not in overall["curves"]:
            continue
        xs, ys = _hull_points(overall, name)
        lowest = min(lowest, float(xs.min()))
        label = f"{name} (AIQ {overall['routers'][name]['aiq']:.4f})"
        if name == "oracle" and float(ys.max()) > top:
            label += ", above the plot"
        ax.plot(xs, ys, label=label, **_STYLE.get(name, {}))
    for i, (model, point) in enumerate(overall["single_models"].items()):
        lowest = min(lowest, point["cost"])
        ax.scatter(point["cost"], point["quality"], color="black", s=14, zorder=7,
                   label="single models" if i == 0 else None)  # fmt: skip
        ax.annotate(model.split("/")[-1], (point["cost"], point["quality"]), fontsize=6,
                    xytext=(3, -8), textcoords="offset points")  # fmt: skip
    if lowest > 0:
        ax.set_xscale("log")
    ax.set_ylim(top=top)
    ax.set_xlabel("average cost per prompt (USD" + (", log scale)" if lowest > 0 else ")"))
    ax.set_ylabel("average quality of the chosen model")
    ax.set_title(title or "routers' cost-quality frontiers", fontsize=10)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.text(0.01, 0.01, AIQ_NOTE, fontsize=7, color="dimgrey")
    fig.tight_layout(rect=(0, 0.03, 1, 1))
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
