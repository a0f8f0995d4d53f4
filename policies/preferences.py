"""Helpers for building ``Preferences``: unit conversion and validated overrides.

Units: quality is a probability of a good answer in [0, 1]. ``cost_weight`` is quality
points per USD and ``latency_weight`` quality points per second, so utility
``quality - cost_weight * cost_usd - latency_weight * runtime_s`` is in quality points.
``willingness_to_pay`` is the USD a caller would pay per request for +1.0 quality
(going from a certainly bad to a certainly good answer); ``cost_weight = 1 / wtp``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import fields, replace
from datetime import date
from typing import Any

from policies.types import Preferences

_FLOATS = {"cost_weight", "latency_weight", "max_cost_usd", "max_latency_s", "min_quality"}
_FLOATS |= {"max_params_b", "target_usd_per_hour"}
_BOOLS = {"local_only", "fallback_on_infeasible", "worst_case_cost"}
_NAME_SETS = {"allowed_models", "blocked_models"}
_NON_NEGATIVE = _FLOATS - {"min_quality"}
_FIELDS = frozenset(f.name for f in fields(Preferences))


def willingness_to_pay_to_cost_weight(usd_per_quality_point: float) -> float:
    """``cost_weight`` (quality points per USD) for a willingness to pay in USD per point."""
    if not (math.isfinite(usd_per_quality_point) and usd_per_quality_point > 0):
        raise ValueError(f"willingness_to_pay must be > 0 USD, got {usd_per_quality_point!r}")
    return 1.0 / usd_per_quality_point


def _as_float(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"{name} must be a number, got {value!r}")
    try:
        number = float(value)
    except ValueError:
        raise ValueError(f"{name} must be a number, got {value!r}") from None
    if math.isnan(number) or (name in _NON_NEGATIVE and number < 0):
        raise ValueError(f"{name} must be a number >= 0, got {value!r}")
    return number


def _as_bool(name: str, value: object) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in {"true", "1", "yes", "false", "0", "no"}:
        return value.strip().lower() in {"true", "1", "yes"}
    raise ValueError(f"{name} must be true or false, got {value!r}")


def _as_names(name: str, value: object) -> frozenset[str]:
    if isinstance(value, str):
        return frozenset(part.strip() for part in value.split(",") if part.strip())
    if isinstance(value, Iterable) and all(isinstance(v, str) for v in value):
        return frozenset(value)
    raise ValueError(f"{name} must be a list of model names, got {value!r}")


def _as_date(name: str, value: object) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise ValueError(f"{name} must be an ISO date (YYYY-MM-DD), got {value!r}") from None


def _converter(name: str) -> Callable[[str, object], Any]:
    if name in _FLOATS:
        return _as_float
    if name in _BOOLS:
        return _as_bool
    if name in _NAME_SETS:
        return _as_names
    return _as_date


def merge_preferences(base: Preferences, overrides: Mapping[str, object]) -> Preferences:
    """``base`` with ``overrides`` applied (JSON values or header strings).

    ``willingness_to_pay`` is accepted and converted to ``cost_weight`` (an explicit
    ``cost_weight`` in the same overrides wins). ``None`` resets an optional field.
    Raises ``ValueError`` naming the offending field.
    """
    changes: dict[str, Any] = {}
    for name, value in overrides.items():
        if name == "willingness_to_pay":
            if "cost_weight" not in overrides:
                wtp = _as_float(name, value)
                changes["cost_weight"] = willingness_to_pay_to_cost_weight(wtp)
            continue
        if name not in _FIELDS:
            raise ValueError(f"unknown preference {name!r}")
        if value is None:
            changes[name] = getattr(Preferences(), name)
            continue
        changes[name] = _converter(name)(name, value)
    if "min_quality" in changes and not 0.0 <= changes["min_quality"] <= 1.0:
        raise ValueError(f"min_quality must lie in [0, 1], got {changes['min_quality']!r}")
    return replace(base, **changes)
