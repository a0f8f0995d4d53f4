"""Factories for candidate tables shared by the policy tests."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date

import numpy as np
import pytest

from policies.types import CandidateTable

TableFactory = Callable[..., CandidateTable]


def make_table(
    quality: Sequence[float],
    cost: Sequence[float],
    runtime: Sequence[float],
    *,
    context_window: Sequence[int] | None = None,
    is_local: Sequence[bool] | None = None,
    params_b: Sequence[float] | None = None,
    release: Sequence[date | None] | None = None,
    names: Sequence[str] | None = None,
) -> CandidateTable:
    """A table with sensible defaults for every static fact."""
    m = len(quality)
    ordinals = [d.toordinal() if d else 0 for d in (release or [date(2024, 1, 1)] * m)]
    return CandidateTable(
        models=tuple(names or [f"model-{i}" for i in range(m)]),
        quality=np.asarray(quality, dtype=np.float64),
        cost_usd=np.asarray(cost, dtype=np.float64),
        runtime_s=np.asarray(runtime, dtype=np.float64),
        context_window=np.asarray(context_window or [8192] * m, dtype=np.int64),
        is_local=np.asarray(is_local or [False] * m, dtype=np.bool_),
        params_b=np.asarray(params_b or [np.nan] * m, dtype=np.float64),
        release_ordinal=np.asarray(ordinals, dtype=np.int64),
    )


@pytest.fixture
def table_factory() -> TableFactory:
    return make_table
