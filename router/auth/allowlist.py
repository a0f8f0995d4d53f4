"""A key's allowed models and profiles: the caller layer of a request's preferences.

The planner calls these after it has resolved the ``model`` field and merged the
profile, header and body preferences, so the key's lists are applied once, to the
typed ``Preferences``, on every path that decides (chat, completions, ``/v1/route``):

- a named model outside the key's list is a 403;
- for ``auto``/``auto:<profile>`` the profile must be allowed (403), and the decision's
  pool becomes the intersection of the request's ``allowed_models`` (or the whole
  catalog) with the key's models; ``allowed_models`` is never relaxed, even when the
  decision falls back, so a restricted key cannot reach a model outside its list.
"""

from __future__ import annotations

from dataclasses import replace

from policies.preferences import Preferences
from router.auth.context import Caller
from router.auth.keys import KeyLimits
from router.catalog import Catalog
from router.errors import PermissionDeniedError


def _limits(caller: Caller | None) -> KeyLimits | None:
    return caller.key.limits if caller is not None and caller.key is not None else None


def check_named(model: str, caller: Caller | None) -> None:
    """403 unless the caller's key may use the catalog model ``model`` by name."""
    limits = _limits(caller)
    allowed = limits.allowed_models if limits is not None else None
    if allowed is not None and model not in allowed:
        raise PermissionDeniedError(f"This key may not use the model {model!r}.", param="model")


def narrow(
    profile: str, prefs: Preferences, caller: Caller | None, catalog: Catalog
) -> Preferences:
    """``prefs`` with the key's lists applied (403 when nothing is left to use)."""
    limits = _limits(caller)
    if limits is None:
        return prefs
    if limits.allowed_profiles is not None and profile not in limits.allowed_profiles:
        raise PermissionDeniedError(
            f"This key may not use the routing profile {profile!r}.", param="model"
        )
    if limits.allowed_models is None:
        return prefs
    pool = prefs.allowed_models
    names = frozenset(
        n for n in catalog.names() if n in limits.allowed_models and (pool is None or n in pool)
    )
    if not names:
        raise PermissionDeniedError(
            "None of the models this request could use is allowed for this key.",
            param="router.allowed_models",
        )
    return replace(prefs, allowed_models=names)
