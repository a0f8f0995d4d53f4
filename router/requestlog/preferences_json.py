"""JSON-safe values for the log: finite floats, and the applied preferences as an object."""

from __future__ import annotations

import math
from dataclasses import fields
from datetime import date
from functools import lru_cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from policies import Preferences


def finite(value: Any) -> float | None:
    """A JSON-safe float: NaN and infinities become None."""
    number = float(value)
    return number if math.isfinite(number) else None


def _json_value(value: Any) -> Any:
    if isinstance(value, frozenset | set):
        return sorted(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return finite(value)
    return value


@lru_cache(maxsize=256)
def preferences_json(preferences: Preferences) -> dict[str, Any]:
    """The applied policy preferences as a JSON object (cached: profiles repeat)."""
    return {f.name: _json_value(getattr(preferences, f.name)) for f in fields(preferences)}
