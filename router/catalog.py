"""The model catalog: a YAML file of models and named preference profiles.

Loading validates everything up front and names the file, the model and the field in
every message: unknown keys, duplicate names, a hosted model with no price (neither in
the file nor in litellm's bundled map). A local model's cost is runtime x accelerator
$/hour; a local model without an ``accelerator`` has no price (``price_source`` "none"):
a catalog where no model has a price routes on quality only.
A missing API-key environment variable is only a warning here; the request that picks
that model fails with 503 (see ``router.errors.ModelUnavailableError``).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from policies.economics import ACCELERATORS
from router.price_map import lookup_price
from router.schemas import RouterPreferences

logger = logging.getLogger(__name__)

BUILTIN_REPLAY = "builtin:replay"
DEFAULT_CONTEXT_WINDOW = 4096


class CatalogError(ValueError):
    """The catalog file is invalid; the message names file, model and field."""


class ModelConfig(BaseModel):
    """One model as written in the catalog file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    litellm_model: str = Field(min_length=1)
    api_base: str | None = None
    api_key_env: str | None = None
    provider: Literal["hosted", "local"] = "hosted"
    input_usd_per_token: float | None = Field(default=None, ge=0)
    output_usd_per_token: float | None = Field(default=None, ge=0)
    usd_per_request: float = Field(default=0.0, ge=0)
    context_window: int | None = Field(default=None, gt=0)
    params_b: float | None = Field(default=None, gt=0)
    accelerator: str | None = None
    release_date: date | None = None
    tags: list[str] = Field(default_factory=list)
    #: Per-model timeouts; unset: the global defaults (``PARETOROUTE_RESILIENCE__*`` and
    #: the catalog's ``upstream_timeout_s``).
    connect_timeout_s: float | None = Field(default=None, gt=0)
    first_byte_timeout_s: float | None = Field(default=None, gt=0)
    timeout_s: float | None = Field(default=None, gt=0)


class CatalogFile(BaseModel):
    """The whole catalog file."""

    model_config = ConfigDict(extra="forbid")

    upstream_timeout_s: float = Field(default=60.0, gt=0)
    models: list[ModelConfig] = Field(min_length=1)
    profiles: dict[str, RouterPreferences] = Field(default_factory=dict)
    default_profile: str | None = None
    #: The model savings are measured against (default: the highest predicted quality).
    reference_model: str | None = None


@dataclass(frozen=True, slots=True)
class CatalogModel:
    """A model with every derived fact resolved (prices, context window)."""

    config: ModelConfig
    input_usd_per_token: float | None
    output_usd_per_token: float | None
    context_window: int
    price_source: str

    @property
    def name(self) -> str:
        return self.config.name

    @property
    def is_local(self) -> bool:
        return self.config.provider == "local"

    def api_key(self) -> str | None:
        """The key from the environment, or None when the model needs none or it is unset."""
        env = self.config.api_key_env
        return os.environ.get(env) if env else None

    def missing_key(self) -> bool:
        """True when the model names a key variable that is not set."""
        env = self.config.api_key_env
        return bool(env) and not os.environ.get(env or "")


@dataclass(frozen=True, slots=True)
class Catalog:
    """Validated catalog: models in file order, profiles, where it came from."""

    source: str
    models: tuple[CatalogModel, ...]
    profiles: Mapping[str, RouterPreferences]
    default_profile: str | None
    upstream_timeout_s: float
    reference_model: str | None = None
    positions: Mapping[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        positions = {model.name: i for i, model in enumerate(self.models)}
        object.__setattr__(self, "positions", positions)

    def names(self) -> tuple[str, ...]:
        return tuple(m.name for m in self.models)

    def index(self, name: str) -> int | None:
        """Position of the model called ``name`` (the column in every score table)."""
        return self.positions.get(name)

    def get(self, name: str) -> CatalogModel | None:
        position = self.index(name)
        return None if position is None else self.models[position]

    def prices(self) -> dict[str, tuple[float, float]]:
        """Hosted models' (input, output) USD per token."""
        return {
            m.name: (m.input_usd_per_token or 0.0, m.output_usd_per_token or 0.0)
            for m in self.models
            if not m.is_local
        }


def default_catalog_path() -> Path:
    """The embedded default: the RouterBench pool served by the replay upstream."""
    return Path(str(resources.files("router").joinpath("data/default_catalog.yaml")))


def _format_validation(source: str, raw: Mapping[str, Any], error: ValidationError) -> str:
    lines = [f"invalid catalog {source}:"]
    listed = raw.get("models")
    models: list[Any] = listed if isinstance(listed, list) else []
    for item in error.errors():
        loc = list(item["loc"])
        where = ".".join(str(part) for part in loc)
        if len(loc) >= 2 and loc[0] == "models" and isinstance(loc[1], int):
            entry = models[loc[1]] if loc[1] < len(models) else {}
            name = entry.get("name", f"#{loc[1]}") if isinstance(entry, Mapping) else loc[1]
            field_name = ".".join(str(part) for part in loc[2:]) or "(model)"
            where = f"model {name!r}, field {field_name!r}"
        lines.append(f"  {where}: {item['msg']}")
    return "\n".join(lines)


def _resolve(source: str, config: ModelConfig) -> CatalogModel:
    known = lookup_price(config.litellm_model)
    input_price = config.input_usd_per_token
    output_price = config.output_usd_per_token
    price_source = "catalog"
    if config.provider == "hosted" and (input_price is None or output_price is None):
        if known is None or known.input_usd_per_token is None:
            raise CatalogError(
                f"invalid catalog {source}: model {config.name!r}: no price known to litellm "
                f"for {config.litellm_model!r}; set input_usd_per_token and output_usd_per_token"
            )
        input_price = input_price if input_price is not None else known.input_usd_per_token
        output_price = output_price if output_price is not None else known.output_usd_per_token
        price_source = f"litellm:{known.key}"
    if config.provider == "local":
        # Without an accelerator a local model has no price: fine for quality routing
        # (a catalog where no model has a price routes on quality only, policies.decide).
        price_source = "accelerator" if config.accelerator is not None else "none"
    if config.accelerator is not None and config.accelerator not in ACCELERATORS:
        raise CatalogError(
            f"invalid catalog {source}: model {config.name!r}, field 'accelerator': "
            f"unknown profile {config.accelerator!r}; known: {sorted(ACCELERATORS)}"
        )
    context = config.context_window or (known.max_input_tokens if known else None)
    return CatalogModel(
        config=config,
        input_usd_per_token=input_price,
        output_usd_per_token=output_price,
        context_window=context or DEFAULT_CONTEXT_WINDOW,
        price_source=price_source,
    )


def _check_names(source: str, parsed: CatalogFile) -> None:
    seen: set[str] = set()
    for model in parsed.models:
        if model.name in seen:
            raise CatalogError(f"invalid catalog {source}: duplicate model name {model.name!r}")
        if model.name == "auto" or model.name.startswith("auto:"):
            raise CatalogError(f"invalid catalog {source}: model name {model.name!r} is reserved")
        seen.add(model.name)
    for profile_name, profile in parsed.profiles.items():
        for key in ("allowed_models", "blocked_models"):
            unknown = sorted(set(getattr(profile, key) or ()) - seen)
            if unknown:
                raise CatalogError(
                    f"invalid catalog {source}: profile {profile_name!r}, field {key!r}: "
                    f"unknown models {unknown}"
                )
    if parsed.default_profile and parsed.default_profile not in parsed.profiles:
        raise CatalogError(
            f"invalid catalog {source}: default_profile {parsed.default_profile!r} "
            f"is not one of the profiles {sorted(parsed.profiles)}"
        )
    if parsed.reference_model and parsed.reference_model not in seen:
        raise CatalogError(
            f"invalid catalog {source}: reference_model {parsed.reference_model!r} "
            "is not one of the models"
        )


def parse_catalog(raw: Any, source: str) -> Catalog:
    """Validate an already-parsed YAML document."""
    if not isinstance(raw, Mapping):
        raise CatalogError(f"invalid catalog {source}: top level must be a mapping")
    try:
        parsed = CatalogFile.model_validate(raw)
    except ValidationError as error:
        raise CatalogError(_format_validation(source, raw, error)) from None
    _check_names(source, parsed)
    models = tuple(_resolve(source, config) for config in parsed.models)
    for model in models:
        if model.missing_key():
            logger.warning(
                "catalog %s: model %r: environment variable %s is not set; requests routed "
                "to it will fail with 503",
                source,
                model.name,
                model.config.api_key_env,
            )
    return Catalog(
        source=source,
        models=models,
        profiles=dict(parsed.profiles),
        default_profile=parsed.default_profile,
        upstream_timeout_s=parsed.upstream_timeout_s,
        reference_model=parsed.reference_model,
    )


def load_catalog(path: Path | None = None) -> Catalog:
    """Load and validate a catalog file (None: the embedded default)."""
    path = path or default_catalog_path()
    try:
        text = path.read_text()
    except OSError as error:
        raise CatalogError(f"cannot read catalog {path}: {error.strerror}") from None
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise CatalogError(f"invalid catalog {path}: not valid YAML: {error}") from None
    return parse_catalog(raw, str(path))


def artifact_catalog(models: Sequence[str], prices: Mapping[str, Sequence[float]],
                     source: str) -> Catalog:  # fmt: skip
    """A catalog of a trained artifact's models (for deciding, not serving: no upstream):
    the artifact's stored prices where it has them, else no price (quality-only)."""
    entries = []
    for name in models:
        price = prices.get(name)
        config = ModelConfig(name=name, litellm_model=f"openai/{name}",
                             provider="hosted" if price else "local")  # fmt: skip
        entries.append(CatalogModel(
            config=config,
            input_usd_per_token=float(price[0]) if price else None,
            output_usd_per_token=float(price[1]) if price else None,
            context_window=DEFAULT_CONTEXT_WINDOW,
            price_source="artifact" if price else "none",
        ))  # fmt: skip
    return Catalog(source=source, models=tuple(entries), profiles={}, default_profile=None,
                   upstream_timeout_s=60.0)  # fmt: skip


def price_table(catalog: Path | None = None) -> dict[str, tuple[float, float]]:
    """(input, output) USD per token for each hosted model of a catalog file."""
    return load_catalog(catalog).prices()
