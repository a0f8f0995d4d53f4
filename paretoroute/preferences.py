"""Routing preferences: the body's ``router`` object, validated before anything is sent.

The same wire type as the server's ``router.schemas.RouterPreferences``: same names,
types and bounds. ``tests/sdk/test_preferences_contract.py`` compares the two through the
live server's ``/openapi.json`` so they cannot drift.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

__all__ = ["PREFERENCE_FIELDS", "RouterPreferences", "split_preferences"]


class RouterPreferences(BaseModel):
    """What the caller wants from the routing decision (all optional).

    ``profile`` names a server profile (``cheap``, ``best``, ...) that fills the rest;
    ``cost_weight`` is quality points per USD, ``latency_weight`` quality points per
    second, ``willingness_to_pay`` USD per +1.0 quality per request (1/cost_weight).
    Hard constraints: ``max_cost_usd``, ``max_latency_s``, ``min_quality``,
    ``allowed_models``, ``blocked_models``, ``local_only``, ``max_params_b``,
    ``min_release_date``; ``fallback_on_infeasible`` picks the closest model instead of
    a 400 when none meets them; ``target_spend_usd_per_hour`` steers the spend rate;
    ``worst_case_cost`` prices ``max_tokens`` instead of the predicted length.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    profile: str | None = None
    cost_weight: float | None = Field(default=None, ge=0)
    latency_weight: float | None = Field(default=None, ge=0)
    max_cost_usd: float | None = Field(default=None, ge=0)
    max_latency_s: float | None = Field(default=None, gt=0)
    min_quality: float | None = Field(default=None, ge=0, le=1)
    allowed_models: list[str] | None = None
    blocked_models: list[str] | None = None
    local_only: bool | None = None
    max_params_b: float | None = Field(default=None, gt=0)
    min_release_date: date | None = None
    fallback_on_infeasible: bool | None = None
    worst_case_cost: bool | None = None
    target_spend_usd_per_hour: float | None = Field(default=None, gt=0)
    willingness_to_pay: float | None = Field(default=None, gt=0)

    @field_validator("allowed_models", "blocked_models", mode="before")
    @classmethod
    def _split_csv(cls, value: Any) -> Any:
        # The server accepts "a,b" too (it is also the header form); keep the same input.
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    def wire(self) -> dict[str, Any]:
        """The ``router`` object as JSON: only the fields that were set."""
        return self.model_dump(mode="json", exclude_none=True)


#: The keyword arguments that are preferences; every other keyword is an OpenAI field.
PREFERENCE_FIELDS: frozenset[str] = frozenset(RouterPreferences.model_fields)


def split_preferences(
    profile: str | None, fields: Mapping[str, Any]
) -> tuple[RouterPreferences, dict[str, Any]]:
    """Validated preferences and the remaining (OpenAI) fields of one call's keywords.

    A ``router=`` keyword (a ``RouterPreferences`` or a mapping) is the base; single
    preference keywords and ``profile`` override it.

    Raises ``pydantic.ValidationError`` (a ``ValueError``) naming the bad preference.
    """
    rest = {name: value for name, value in fields.items() if name not in PREFERENCE_FIELDS}
    base = rest.pop("router", None)
    if isinstance(base, RouterPreferences):
        base = base.wire()
    # A whole ``router=`` object is accepted too; single keywords override its fields.
    chosen = dict(base or {})
    chosen.update((name, value) for name, value in fields.items() if name in PREFERENCE_FIELDS)
    if profile is not None:
        chosen["profile"] = profile
    return RouterPreferences(**chosen), rest
