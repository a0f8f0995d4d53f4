"""Hard constraints as a table of named rows: adding one is adding one row.

Each ``Constraint`` says which models fail it (a mask over the candidate table, or
``None`` when the preference that drives it is unset), whether a fallback may relax it,
and how to describe it. ``decide`` applies the rows in order; a model's reason is the
first row it fails. Rows that are never relaxed come first.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from policies.preferences import Preferences
from policies.types import BoolArray, CandidateTable


@dataclass(frozen=True, slots=True)
class Need:
    """Per-request facts a constraint may look at besides the table and preferences."""

    #: Prompt tokens plus the caller's output cap: what must fit the context window.
    tokens: int


#: ``test(table, prefs, need)`` → mask of models that FAIL, or ``None`` when inactive.
ConstraintTest = Callable[[CandidateTable, Preferences, Need], BoolArray | None]


@dataclass(frozen=True, slots=True)
class Constraint:
    """One hard constraint."""

    name: str
    test: ConstraintTest
    #: May ``fallback_on_infeasible`` relax it?
    relaxable: bool
    #: What a model failing it lacks, for messages.
    message: str


def _not_in(models: tuple[str, ...], names: frozenset[str]) -> BoolArray:
    return np.fromiter((m not in names for m in models), dtype=np.bool_, count=len(models))


def _missing(table: CandidateTable, prefs: Preferences, need: Need) -> BoolArray:
    q, c, r = table.quality, table.cost_usd, table.runtime_s
    return ~(np.isfinite(q) & np.isfinite(c) & np.isfinite(r))


def _context(table: CandidateTable, prefs: Preferences, need: Need) -> BoolArray:
    # A context window <= 0 means "unknown" and is not held against the model.
    window = table.context_window
    return (window > 0) & (window < need.tokens)


def _allowed(table: CandidateTable, prefs: Preferences, need: Need) -> BoolArray | None:
    if prefs.allowed_models is None:
        return None
    return _not_in(table.models, prefs.allowed_models)


def _blocked(table: CandidateTable, prefs: Preferences, need: Need) -> BoolArray | None:
    return ~_not_in(table.models, prefs.blocked_models) if prefs.blocked_models else None


def _local(table: CandidateTable, prefs: Preferences, need: Need) -> BoolArray | None:
    return ~table.is_local if prefs.local_only else None


def _params(table: CandidateTable, prefs: Preferences, need: Need) -> BoolArray | None:
    if prefs.max_params_b is None:
        return None
    return ~(table.params_b <= prefs.max_params_b)  # NaN (unknown) fails


def _released(table: CandidateTable, prefs: Preferences, need: Need) -> BoolArray | None:
    if prefs.min_release_date is None:
        return None
    return table.release_ordinal < prefs.min_release_date.toordinal()  # 0 (unknown) fails


def _quality(table: CandidateTable, prefs: Preferences, need: Need) -> BoolArray | None:
    return None if prefs.min_quality is None else ~(table.quality >= prefs.min_quality)


def _cost(table: CandidateTable, prefs: Preferences, need: Need) -> BoolArray | None:
    return None if prefs.max_cost_usd is None else ~(table.cost_usd <= prefs.max_cost_usd)


def _latency(table: CandidateTable, prefs: Preferences, need: Need) -> BoolArray | None:
    return None if prefs.max_latency_s is None else ~(table.runtime_s <= prefs.max_latency_s)


CONSTRAINTS: tuple[Constraint, ...] = (
    Constraint("missing_estimate", _missing, False, "no quality, cost or runtime estimate"),
    Constraint("context_window", _context, False, "context window too small"),
    Constraint("allowed_models", _allowed, False, "not in allowed_models"),
    Constraint("blocked_models", _blocked, False, "in blocked_models"),
    Constraint("local_only", _local, True, "not self-hosted"),
    Constraint("max_params_b", _params, True, "too large or size unknown"),
    Constraint("min_release_date", _released, True, "too old or date unknown"),
    Constraint("min_quality", _quality, True, "predicted quality too low"),
    Constraint("max_cost_usd", _cost, True, "predicted cost too high"),
    Constraint("max_latency_s", _latency, True, "predicted runtime too long"),
)


def constraint_names(rows: tuple[Constraint, ...] = CONSTRAINTS) -> tuple[str, ...]:
    """The names of ``rows`` in order."""
    return tuple(row.name for row in rows)
