"""Select what a request asked for: a named model, or a profile plus preference layers.

The ``model`` field names a catalog model or a profile (``auto`` = the catalog's
``default_profile``; ``auto:cheap`` = profile ``cheap``; ``router.profile`` overrides).
The preference layers, lowest first, are that profile, the ``x-paretoroute-*`` request
headers and the body's ``router`` object; ``policies.preferences.merge`` combines them
once into the frozen ``Preferences`` the engine decides with.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from policies.preferences import Preferences, merge
from router.catalog import Catalog, CatalogModel
from router.errors import InvalidRequestError, UnknownModelError
from router.schemas import RouterPreferences

HEADER_PREFIX = "x-paretoroute-"
#: The router's own response headers: a caller that echoes them back is not asking for
#: a preference, so they are ignored rather than refused.
RESPONSE_HEADERS = frozenset(
    {"request_id", "model", "profile", "decision_ms", "predicted_cost_usd", "fallback",
     "fallback_chain", "dropped_fields", "reason"}
)  # fmt: skip
AUTO = "auto"


@dataclass(frozen=True, slots=True)
class ModelChoice:
    """What the ``model`` field asked for: a catalog model directly, or a routing profile."""

    direct: CatalogModel | None
    profile: str


def resolve_model_field(model: str, catalog: Catalog) -> ModelChoice:
    """Map the request's ``model`` to a catalog model or a profile name."""
    named = catalog.get(model)
    if named is not None:
        return ModelChoice(direct=named, profile="")
    if model == AUTO:
        return ModelChoice(direct=None, profile=catalog.default_profile or "")
    if model.startswith(AUTO + ":"):
        profile = model[len(AUTO) + 1 :]
        if profile in catalog.profiles:
            return ModelChoice(direct=None, profile=profile)
    options = ", ".join([AUTO, *(f"auto:{p}" for p in catalog.profiles), *catalog.names()])
    raise UnknownModelError(
        f"The model {model!r} does not exist. Use one of: {options}", param="model"
    )


def header_preferences(headers: Mapping[str, str]) -> RouterPreferences | None:
    """Preferences sent as ``x-paretoroute-<field>`` headers (``-`` for ``_``)."""
    fields: dict[str, Any] = {}
    for name, value in headers.items():
        lowered = name.lower()
        if lowered.startswith(HEADER_PREFIX):
            name = lowered[len(HEADER_PREFIX) :].replace("-", "_")
            if name not in RESPONSE_HEADERS:
                fields[name] = value
    if not fields:
        return None
    try:
        return RouterPreferences.model_validate(fields)
    except ValidationError as error:
        first = error.errors()[0]
        field = str(first["loc"][0]) if first["loc"] else ""
        header = HEADER_PREFIX + field.replace("_", "-")
        message = (
            f"Unknown preference header {header!r}"
            if first["type"] == "extra_forbidden"
            else f"Invalid preference header {header!r}: {first['msg']}"
        )
        raise InvalidRequestError(message, param=header) from None


def _check_models(fields: Mapping[str, Any], catalog: Catalog, source: str) -> None:
    names = set(catalog.names())
    for key in ("allowed_models", "blocked_models"):
        unknown = sorted(set(fields.get(key) or ()) - names)
        if unknown:
            raise InvalidRequestError(
                f"{key} names models that are not in the catalog: {unknown}",
                param=f"{source}.{key}",
            )


def build_preferences(
    choice: ModelChoice,
    catalog: Catalog,
    headers: RouterPreferences | None,
    body: RouterPreferences | None,
) -> tuple[str, Preferences]:
    """The profile actually applied and the merged policy preferences."""
    profile = (body.profile if body and body.profile else None) or (
        headers.profile if headers and headers.profile else None
    )
    profile = profile or choice.profile
    if profile and profile not in catalog.profiles:
        raise InvalidRequestError(f"Unknown routing profile {profile!r}", param="router.profile")
    layers: list[Mapping[str, Any]] = [catalog.profiles[profile].explicit() if profile else {}]
    for source, prefs in (("header", headers), ("router", body)):
        explicit = prefs.explicit() if prefs is not None else {}
        _check_models(explicit, catalog, source)
        layers.append(explicit)
    try:
        return profile or AUTO, merge(*layers)
    except ValueError as error:
        raise InvalidRequestError(str(error), param="router") from None
