"""Frozen value types shared by every policy: the per-model table, preferences, decisions.

The policy layer needs only numpy. A *candidate table* holds one row per catalog model
for one prompt (predicted quality, predicted cost, predicted runtime and the static
facts hard constraints look at); a policy turns it plus frozen ``Preferences`` into a
frozen ``Decision`` that explains itself. ``Preferences`` lives in
``policies.preferences`` (re-exported here).

Units: quality is a probability-like score in [0, 1]; cost in USD for this one request;
runtime in seconds (idealized, see ``policies.runtime``). Utility is
``quality - cost_weight * cost_usd - latency_weight * runtime_s``, so ``cost_weight`` is
quality points per USD and ``latency_weight`` quality points per second.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from policies.preferences import Preferences

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]
IntArray = NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class CandidateTable:
    """One row per model for one request. All arrays have length ``len(models)``."""

    models: tuple[str, ...]
    quality: FloatArray
    cost_usd: FloatArray
    runtime_s: FloatArray
    context_window: IntArray
    is_local: BoolArray
    #: Parameter count in billions, NaN where unknown (unknown never passes max_params_b).
    params_b: FloatArray
    #: ``date.toordinal()`` of the release, 0 where unknown.
    release_ordinal: IntArray

    def __len__(self) -> int:
        return len(self.models)


@dataclass(frozen=True, slots=True)
class Decision:
    """The chosen model and the full reasoning behind it."""

    model: str
    index: int
    preferences: Preferences
    utility: FloatArray
    on_front: BoolArray
    feasible: BoolArray
    #: Per model, the first hard constraint that removed it (None when feasible).
    infeasible_reason: tuple[str | None, ...]
    #: Human-readable: which weight or constraint decided.
    reason: str
    fell_back: bool = False
    notes: tuple[str, ...] = field(default=())
    #: When ``fell_back``: the constraint that removed the last strictly feasible model.
    failed_constraint: str | None = None
    #: Every model of the pool the choice was made from, best first (``index`` first):
    #: the order fallbacks walk. Models outside the pool are not in it.
    ranking: tuple[int, ...] = ()
