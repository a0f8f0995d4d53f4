"""litellm's bundled price map, read from its JSON file without importing litellm.

Importing litellm costs seconds and may try the network for a fresher map; the JSON
that ships inside the package is all we need, and reading it is side-effect free.
"""

from __future__ import annotations

import importlib.util
import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

_PRICE_FILE = "model_prices_and_context_window_backup.json"


@dataclass(frozen=True, slots=True)
class KnownPrice:
    """What litellm's map says about one model."""

    key: str
    input_usd_per_token: float | None
    output_usd_per_token: float | None
    max_input_tokens: int | None


@lru_cache(maxsize=1)
def price_map() -> dict[str, dict[str, Any]]:
    """The whole bundled map (model key → attributes); empty if litellm is absent."""
    spec = importlib.util.find_spec("litellm")
    if spec is None or not spec.submodule_search_locations:
        return {}
    path = Path(next(iter(spec.submodule_search_locations))) / _PRICE_FILE
    if not path.is_file():
        return {}
    data: dict[str, dict[str, Any]] = json.loads(path.read_text())
    data.pop("sample_spec", None)
    return data


def _candidates(litellm_model: str) -> list[str]:
    keys = [litellm_model]
    if "/" in litellm_model:
        keys.append(litellm_model.split("/", 1)[1])
    return keys


def lookup_price(litellm_model: str) -> KnownPrice | None:
    """Price and context window for a litellm model string, or None if unknown."""
    table = price_map()
    for key in _candidates(litellm_model):
        entry = table.get(key)
        if entry is None:
            continue
        max_input = entry.get("max_input_tokens") or entry.get("max_tokens")
        return KnownPrice(
            key=key,
            input_usd_per_token=entry.get("input_cost_per_token"),
            output_usd_per_token=entry.get("output_cost_per_token"),
            max_input_tokens=int(max_input) if max_input else None,
        )
    return None
