"""The front plot writes a PNG for a real decision."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from policies import CandidateTable, Preferences, decide
from router.front_plot import marker_sizes, plot_front


def _table() -> CandidateTable:
    return CandidateTable(
        models=("small", "medium", "large", "blocked"),
        quality=np.array([0.5, 0.7, 0.9, 0.95]),
        cost_usd=np.array([1e-5, 1e-4, 1e-2, 1e-3]),
        runtime_s=np.array([0.5, 1.0, 4.0, 2.0]),
        context_window=np.full(4, 8192),
        is_local=np.array([True, False, False, False]),
        params_b=np.array([7.0, np.nan, np.nan, np.nan]),
        release_ordinal=np.zeros(4, dtype=np.int64),
    )


def test_plot_front_writes_a_png(tmp_path: Path) -> None:
    table = _table()
    prefs = Preferences(cost_weight=20.0, blocked_models=frozenset({"blocked"}))
    decision = decide(table, prefs, prompt_tokens=10)
    path = tmp_path / "front.png"
    plot_front(table, decision, path, "one prompt")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert path.stat().st_size > 10_000


def test_marker_area_grows_with_runtime() -> None:
    sizes = marker_sizes(np.array([0.5, 1.0, 4.0, np.nan]))
    assert sizes[0] < sizes[1] < sizes[2]
    assert sizes[3] == sizes.min()
