"""Write a profile into a catalog file, keeping it loadable and keeping its comments.

``paretoroute calibrate --out FILE`` goes through here: an existing catalog is updated
in place with a round-trip YAML parser (ruamel.yaml: comments, order and quoting kept);
a new file starts as a copy of the base catalog (``--catalog``, or the embedded
default), so what is written is always a whole catalog that ``load_catalog`` accepts.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


def _yaml() -> Any:
    from ruamel.yaml import YAML

    yaml = YAML()  # round-trip mode
    yaml.preserve_quotes = True
    yaml.width = 100
    return yaml


def write_profile(out: Path, base: Path, profile: str, values: dict[str, float]) -> Path:
    """Set ``profiles[profile][key] = value`` for each of ``values`` in ``out``.

    ``out`` is created from ``base`` when it does not exist; a file without ``models``
    gets the base catalog's models. The result is validated by loading it.
    """
    from router.catalog import load_catalog

    yaml = _yaml()
    source = out if out.exists() else base
    with source.open(encoding="utf-8") as handle:
        document = yaml.load(handle) or {}
    if "models" not in document:
        with base.open(encoding="utf-8") as handle:
            document["models"] = (yaml.load(handle) or {}).get("models", [])
    profiles = document.setdefault("profiles", {})
    if profiles.get(profile) is None:
        profiles[profile] = {}
    for key, value in values.items():
        profiles[profile][key] = value
    with out.open("w", encoding="utf-8") as handle:
        yaml.dump(document, handle)
    load_catalog(out)
    return out
