"""``paretoroute serve`` and ``paretoroute models``."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any

import typer

from router.settings import Settings


def _settings(**given: Any) -> Settings:
    return Settings(**{key: value for key, value in given.items() if value is not None})


def serve(
    host: Annotated[str | None, typer.Option(help="Bind address [env PARETOROUTE_HOST]")] = None,
    port: Annotated[int | None, typer.Option(help="Port [env PARETOROUTE_PORT]")] = None,
    catalog: Annotated[
        Path | None, typer.Option(help="Catalog YAML [env PARETOROUTE_CATALOG]; default: embedded")
    ] = None,
    artifact: Annotated[
        str | None,
        typer.Option(help="Predictor artifact dir, or 'prior' [env PARETOROUTE_ARTIFACT]"),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(min=1, help="uvicorn worker processes [env PARETOROUTE_WORKERS]; default 1"),
    ] = None,
) -> None:
    """Start the OpenAI-compatible router; /metrics sums over the workers."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    from router.cli.workers import run

    run(_settings(host=host, port=port, catalog=catalog, artifact=artifact, workers=workers))


def models(
    catalog: Annotated[Path | None, typer.Option(help="Catalog YAML; default: embedded")] = None,
) -> None:
    """List the catalog's models with their prices, context windows and profiles."""
    from rich.console import Console
    from rich.table import Table

    from router.catalog import load_catalog

    loaded = load_catalog(catalog or Settings().catalog)
    table = Table(title=f"catalog {loaded.source}")
    for column in ("model", "provider", "$/M in", "$/M out", "context", "price source", "key"):
        table.add_column(column)
    for model in loaded.models:
        per_m = [
            f"{p * 1e6:.3f}" if p is not None else "-"
            for p in (model.input_usd_per_token, model.output_usd_per_token)
        ]
        key = model.config.api_key_env or "-"
        if model.missing_key():
            key += " (unset)"
        table.add_row(
            model.name,
            model.config.provider,
            *per_m,
            str(model.context_window),
            model.price_source,
            key,
        )
    console = Console()
    console.print(table)
    profiles = ", ".join(f"auto:{p}" for p in loaded.profiles) or "none"
    console.print(f"profiles: {profiles}; plain 'auto' = {loaded.default_profile or 'defaults'}")
