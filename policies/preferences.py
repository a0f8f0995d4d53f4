"""The one definition of caller preferences, and the one place they are merged.

``Preferences`` is a frozen dataclass; each field carries a ``PreferenceSpec`` in its
metadata (kind, bounds, unit, meaning). Everything else derives from it:

- ``parse_value`` converts a JSON value or header string by the field's kind and bounds;
- ``merge(profile, headers, body)`` layers the three sources (lowest first) once;
- the HTTP ``router`` object schema (``router.schemas``), the ``x-paretoroute-*``
  headers, the catalog's profiles, the CLI's ``--pref`` flags and the SDK are generated
  from, or checked against, ``preference_specs()``.

Units: quality is a probability of a good answer in [0, 1]. ``cost_weight`` is quality
points per USD and ``latency_weight`` quality points per second, so utility
``quality - cost_weight * cost_usd - latency_weight * runtime_s`` is in quality points.
``willingness_to_pay`` (an input-only field, ``INPUT_ONLY``) is the USD a caller would
pay per request for +1.0 quality; it becomes ``cost_weight = 1 / wtp`` in exactly one
place, ``merge``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import MISSING, dataclass, field, fields, replace
from datetime import date
from typing import Any, Literal

Kind = Literal["weight", "number", "fraction", "bool", "names", "date"]


@dataclass(frozen=True, slots=True)
class PreferenceSpec:
    """How one preference field is parsed, bounded and documented."""

    kind: Kind
    doc: str
    #: Inclusive lower bound (``weight``/``number``/``fraction``).
    ge: float | None = None
    #: Exclusive lower bound.
    gt: float | None = None
    #: Inclusive upper bound.
    le: float | None = None


def spec(kind: Kind, doc: str, **bounds: float) -> dict[str, PreferenceSpec]:
    """Field metadata for a preference (``field(metadata=spec(...))``)."""
    if kind in ("weight",):
        bounds.setdefault("ge", 0.0)
    if kind == "fraction":
        bounds.setdefault("ge", 0.0)
        bounds.setdefault("le", 1.0)
    return {"preference": PreferenceSpec(kind, doc, **bounds)}


@dataclass(frozen=True, slots=True)
class Preferences:
    """What the caller asked for. All constraints are optional; defaults mean "none"."""

    cost_weight: float = field(
        default=0.0, metadata=spec("weight", "Quality points per USD of predicted cost.")
    )
    latency_weight: float = field(
        default=0.0, metadata=spec("weight", "Quality points per second of predicted runtime.")
    )
    max_cost_usd: float | None = field(
        default=None, metadata=spec("number", "Hard cap on predicted USD per request.", ge=0.0)
    )
    max_latency_s: float | None = field(
        default=None, metadata=spec("number", "Hard cap on predicted runtime, seconds.", gt=0.0)
    )
    min_quality: float | None = field(
        default=None, metadata=spec("fraction", "Floor on predicted quality, in [0, 1].")
    )
    allowed_models: frozenset[str] | None = field(
        default=None, metadata=spec("names", "Only these catalog models (never relaxed).")
    )
    blocked_models: frozenset[str] = field(
        default=frozenset(), metadata=spec("names", "Never these models (never relaxed).")
    )
    local_only: bool = field(default=False, metadata=spec("bool", "Only self-hosted models."))
    max_params_b: float | None = field(
        default=None, metadata=spec("number", "Largest parameter count, billions.", gt=0.0)
    )
    min_release_date: date | None = field(
        default=None, metadata=spec("date", "Earliest release date (YYYY-MM-DD).")
    )
    fallback_on_infeasible: bool = field(
        default=False,
        metadata=spec(
            "bool",
            "When no model meets the constraints, relax the relaxable ones instead of a 400.",
        ),
    )
    worst_case_cost: bool = field(
        default=False,
        metadata=spec("bool", "Price at max_tokens instead of the predicted completion length."),
    )
    target_spend_usd_per_hour: float | None = field(
        default=None,
        metadata=spec(
            "number", "Target spend rate, USD per hour: a controller steers cost_weight.", gt=0.0
        ),
    )


#: Accepted on input, converted by ``merge``, never stored on ``Preferences``.
INPUT_ONLY: dict[str, PreferenceSpec] = {
    "willingness_to_pay": PreferenceSpec(
        "number", "USD per request for +1.0 quality; sets cost_weight = 1 / wtp.", gt=0.0
    )
}


def preference_specs(cls: type[Preferences] = Preferences) -> dict[str, PreferenceSpec]:
    """Every preference field of ``cls`` (and the input-only ones) with its spec."""
    specs: dict[str, PreferenceSpec] = {}
    for item in fields(cls):
        found = item.metadata.get("preference")
        if not isinstance(found, PreferenceSpec):
            raise TypeError(f"preference field {item.name!r} has no PreferenceSpec metadata")
        specs[item.name] = found
    return {**specs, **INPUT_ONLY}


def default_of(cls: type[Preferences], name: str) -> Any:
    """The default value of field ``name``."""
    for item in fields(cls):
        if item.name == name:
            return item.default if item.default is not MISSING else None
    raise KeyError(name)


def _number(name: str, value: object, rule: PreferenceSpec) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"{name} must be a number, got {value!r}")
    try:
        number = float(value)
    except (ValueError, OverflowError):
        raise ValueError(f"{name} must be a number, got {value!r}") from None
    if not math.isfinite(number):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    if rule.ge is not None and number < rule.ge:
        raise ValueError(f"{name} must be >= {rule.ge:g}, got {value!r}")
    if rule.gt is not None and number <= rule.gt:
        raise ValueError(f"{name} must be > {rule.gt:g}, got {value!r}")
    if rule.le is not None and number > rule.le:
        raise ValueError(f"{name} must be <= {rule.le:g}, got {value!r}")
    return number


def _boolean(name: str, value: object) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in {"true", "1", "yes", "false", "0", "no"}:
        return value.strip().lower() in {"true", "1", "yes"}
    raise ValueError(f"{name} must be true or false, got {value!r}")


def _names(name: str, value: object) -> frozenset[str]:
    if isinstance(value, str):
        return frozenset(part.strip() for part in value.split(",") if part.strip())
    if isinstance(value, Iterable) and all(isinstance(v, str) for v in value):
        return frozenset(value)
    raise ValueError(f"{name} must be a list of model names, got {value!r}")


def _day(name: str, value: object) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise ValueError(f"{name} must be an ISO date (YYYY-MM-DD), got {value!r}") from None


def parse_value(name: str, value: object, rule: PreferenceSpec) -> Any:
    """``value`` (JSON or a header string) converted and bounds-checked per ``rule``."""
    if rule.kind in ("weight", "number", "fraction"):
        return _number(name, value, rule)
    if rule.kind == "bool":
        return _boolean(name, value)
    if rule.kind == "names":
        return _names(name, value)
    return _day(name, value)


def willingness_to_pay_to_cost_weight(usd_per_quality_point: float) -> float:
    """``cost_weight`` (quality points per USD) for a willingness to pay in USD per point."""
    if not (math.isfinite(usd_per_quality_point) and usd_per_quality_point > 0):
        raise ValueError(f"willingness_to_pay must be > 0 USD, got {usd_per_quality_point!r}")
    weight = 1.0 / usd_per_quality_point
    if not math.isfinite(weight):
        raise ValueError(f"willingness_to_pay is too small to invert: {usd_per_quality_point!r}")
    return weight


def _layer(raw: Mapping[str, object], specs: Mapping[str, PreferenceSpec]) -> dict[str, Any]:
    """One source's values, parsed; ``willingness_to_pay`` becomes ``cost_weight``."""
    parsed: dict[str, Any] = {}
    for name, value in raw.items():
        rule = specs.get(name)
        if rule is None:
            raise ValueError(f"unknown preference {name!r}")
        parsed[name] = None if value is None else parse_value(name, value, rule)
    wtp = parsed.pop("willingness_to_pay", None)
    if wtp is not None and "cost_weight" not in parsed:
        parsed["cost_weight"] = willingness_to_pay_to_cost_weight(wtp)
    return parsed


def merge(
    *layers: Mapping[str, object] | None, cls: type[Preferences] = Preferences
) -> Preferences:
    """Preferences from sources applied lowest first: ``merge(profile, headers, body)``.

    Each layer holds JSON values or header strings; ``None`` as a value resets that field
    to its default. Raises ``ValueError`` naming the offending field.
    """
    specs = preference_specs(cls)
    values: dict[str, Any] = {}
    for raw in layers:
        if raw:
            values.update(_layer(raw, specs))
    changes = {
        name: default_of(cls, name) if value is None else value for name, value in values.items()
    }
    return replace(cls(), **changes)
