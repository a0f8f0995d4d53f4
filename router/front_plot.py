"""Draw one prompt's candidates: quality vs cost, runtime as marker size, front and choice.

matplotlib is imported inside ``plot_front`` (Agg backend) so importing this module is
free and ``paretoroute --help`` stays instant.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from policies.types import CandidateTable, Decision

_MIN_SIZE, _MAX_SIZE = 30.0, 600.0


def marker_sizes(runtime_s: np.ndarray) -> np.ndarray:
    """Marker areas proportional to runtime, scaled into a readable range."""
    finite = np.where(np.isfinite(runtime_s), runtime_s, 0.0)
    top = float(finite.max()) if len(finite) and finite.max() > 0 else 1.0
    return _MIN_SIZE + (_MAX_SIZE - _MIN_SIZE) * finite / top


def _size_key(ax: Any, runtime_s: np.ndarray) -> None:
    """Legend entries showing what marker areas mean (shortest, middle, longest runtime)."""
    finite = runtime_s[np.isfinite(runtime_s) & (runtime_s > 0)]
    if not len(finite):
        return
    keys = np.unique(np.round(np.percentile(finite, [0, 50, 100]), 3))
    for seconds, size in zip(keys, marker_sizes(np.append(keys, finite.max()))[:-1], strict=True):
        ax.scatter([], [], s=size, c="none", edgecolors="dimgrey", label=f"runtime {seconds:.2g} s")


def plot_front(table: CandidateTable, decision: Decision, path: Path, title: str) -> None:
    """Save a PNG of ``table``: infeasible models grey, front outlined, choice starred."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cost = np.maximum(np.asarray(table.cost_usd, dtype=np.float64), 1e-12)
    sizes = marker_sizes(np.asarray(table.runtime_s, dtype=np.float64))
    feasible = np.asarray(decision.feasible) | (np.arange(len(table)) == decision.index)
    front = np.asarray(decision.on_front)
    fig, ax = plt.subplots(figsize=(11, 6), dpi=120)
    ax.scatter(
        cost[~feasible],
        table.quality[~feasible],
        s=sizes[~feasible],
        c="white",
        edgecolors="tab:red",
        linewidths=1.5,
        hatch="xxx",
        label="infeasible (a constraint removed it)",
        zorder=2,
    )
    rest = feasible & ~front
    ax.scatter(
        cost[rest],
        table.quality[rest],
        s=sizes[rest],
        c="tab:blue",
        alpha=0.6,
        label="feasible, dominated",
        zorder=3,
    )
    ax.scatter(
        cost[front],
        table.quality[front],
        s=sizes[front],
        c="tab:orange",
        edgecolors="black",
        linewidths=1.5,
        label="Pareto front",
        zorder=4,
    )
    ax.scatter(
        [cost[decision.index]],
        [table.quality[decision.index]],
        marker="*",
        s=400,
        c="red",
        edgecolors="black",
        label=f"chosen: {decision.model}",
        zorder=5,
    )
    for i, name in enumerate(table.models):
        label = f"{name}\n{table.runtime_s[i]:.2g}s"
        ax.annotate(
            label,
            (cost[i], table.quality[i]),
            textcoords="offset points",
            xytext=(6, 6),
            fontsize=7,
            color="dimgrey" if not feasible[i] else "black",
        )
    _size_key(ax, np.asarray(table.runtime_s, dtype=np.float64))
    ax.set_xscale("log")
    ax.set_xlabel("predicted cost per request (USD, log scale)")
    ax.set_ylabel("predicted quality (probability of a good answer)")
    ax.set_title(title, fontsize=10)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(
        loc="upper left",
        bbox_to_anchor=(1.01, 1.0),
        fontsize=8,
        labelspacing=1.2,
        title="marker area = idealized runtime",
        title_fontsize=8,
    )
    fig.text(0.01, 0.01, decision.reason[:160], fontsize=7, color="dimgrey")
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    fig.savefig(path)
    plt.close(fig)
