"""A key's allowed models and profiles, applied to the request body at the edge.

A named model outside the key's list is a 403. For ``auto``/``auto:<profile>`` the
profile must be allowed, and the decision's pool becomes the intersection of what the
request would otherwise use (body, headers, profile; the same precedence the planner
applies) with the key's models, written into the body's ``router.allowed_models``, which
the planner already honours (and never relaxes, even when falling back).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from router.auth.keys import KeyLimits
from router.catalog import Catalog
from router.errors import InvalidRequestError, PermissionDeniedError
from router.schemas import RouterPreferences
from router.selection import build_preferences, header_preferences, resolve_model_field


def _body_preferences(body: Mapping[str, Any]) -> RouterPreferences | None:
    raw = body.get("router")
    if raw is None:
        return None
    try:
        return RouterPreferences.model_validate(raw)
    except ValidationError:
        raise InvalidRequestError("Invalid 'router' object.", param="router") from None


def restrict(
    body: dict[str, Any], limits: KeyLimits, catalog: Catalog, headers: Mapping[str, str]
) -> bool:
    """Apply the key's lists to ``body`` in place; True if the body changed."""
    model = body.get("model", "auto")
    if not isinstance(model, str):
        raise InvalidRequestError("Invalid value for 'model': must be a string.", param="model")
    choice = resolve_model_field(model, catalog)
    allowed = set(limits.allowed_models) if limits.allowed_models is not None else None
    if choice.direct is not None:
        if allowed is not None and choice.direct.name not in allowed:
            raise PermissionDeniedError(f"This key may not use the model {model!r}.", param="model")
        return False
    profile, prefs = build_preferences(
        choice, catalog, header_preferences(headers), _body_preferences(body)
    )
    if limits.allowed_profiles is not None and profile not in limits.allowed_profiles:
        raise PermissionDeniedError(
            f"This key may not use the routing profile {profile!r}.", param="model"
        )
    if allowed is None:
        return False
    pool = prefs.allowed_models
    names = [n for n in catalog.names() if n in allowed and (pool is None or n in pool)]
    if not names:
        raise PermissionDeniedError(
            "None of the models this request could use is allowed for this key.",
            param="router.allowed_models",
        )
    router = dict(body.get("router") or {})
    router["allowed_models"] = names
    body["router"] = router
    return True
