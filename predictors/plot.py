"""``pareto.png``: each router's monotone hull against the single models (matplotlib Agg)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from predictors.metrics import monotone_hull

_ROUTERS = ("learned", "task-prior", "knn", "mlp", "oracle", "single-model-hull")


def plot_pareto(overall: dict[str, Any], out: Path) -> None:
    """Plot the hulls of the main routers and the single-model points."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 5.5))
    c_max = overall["cost_range"][1]
    for name in _ROUTERS:
        if name not in overall["curves"]:
            continue
        hull = monotone_hull(np.array(overall["curves"][name]))
        xs, ys = np.append(hull[:, 0], c_max), np.append(hull[:, 1], hull[-1, 1])
        aiq = overall["routers"][name]["aiq"]
        ax.plot(xs, ys, marker=".", label=f"{name} (AIQ {aiq:.3f})")
    for model, point in overall["single_models"].items():
        ax.scatter(point["cost"], point["quality"], color="black", s=12)
        ax.annotate(model.split("/")[-1], (point["cost"], point["quality"]), fontsize=6)
    ax.set_xscale("log")
    ax.set_xlabel("average cost per prompt (USD, log)")
    ax.set_ylabel("average quality")
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    fig.savefig(out, dpi=120)
    plt.close(fig)
