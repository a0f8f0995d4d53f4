"""``paretoroute serve`` and ``paretoroute models``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from router.settings import Settings

if TYPE_CHECKING:
    from router.catalog import Catalog


def _settings(**given: Any) -> Settings:
    return Settings(**{key: value for key, value in given.items() if value is not None})


def preflight(settings: Settings) -> None:
    """Fail before the server starts, with one clear line, on a bad catalog or artifact
    (instead of a traceback from inside the lifespan)."""
    from predictors.artifact import DEFAULT_ARTIFACT, read_manifest
    from router.catalog import load_catalog

    load_catalog(settings.catalog)
    if settings.scorer == "artifact":
        read_manifest(settings.artifact or DEFAULT_ARTIFACT)


def serve(
    host: Annotated[str | None, typer.Option(help="Bind address [env PARETOROUTE_HOST]")] = None,
    port: Annotated[int | None, typer.Option(help="Port [env PARETOROUTE_PORT]")] = None,
    catalog: Annotated[
        Path | None, typer.Option(help="Catalog YAML [env PARETOROUTE_CATALOG]; default: embedded")
    ] = None,
    artifact: Annotated[
        str | None,
        typer.Option(help="Predictor artifact dir [env PARETOROUTE_ARTIFACT]"),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(min=1, help="uvicorn worker processes [env PARETOROUTE_WORKERS]; default 1"),
    ] = None,
) -> None:
    """Start the OpenAI-compatible router; /metrics sums over the workers."""
    from router.cli.workers import run

    settings = _settings(host=host, port=port, catalog=catalog, artifact=artifact, workers=workers)
    preflight(settings)
    run(settings)


def _model_rows(catalog: Catalog) -> list[dict[str, Any]]:
    rows = []
    for model in catalog.models:
        rows.append(
            {
                "model": model.name,
                "provider": model.config.provider,
                "input_usd_per_mtok": None
                if model.input_usd_per_token is None
                else model.input_usd_per_token * 1e6,
                "output_usd_per_mtok": None
                if model.output_usd_per_token is None
                else model.output_usd_per_token * 1e6,
                "context_window": model.context_window,
                "price_source": model.price_source,
                "api_key_env": model.config.api_key_env,
                "api_key_set": not model.missing_key(),
            }
        )
    return rows


def _print_models(catalog: Catalog, rows: list[dict[str, Any]]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"catalog {catalog.source}")
    # Names are what users type: fold them, never cut them.
    table.add_column("model", overflow="fold")
    for column in ("provider", "$/M in", "$/M out", "context", "price source", "key"):
        table.add_column(column, overflow="fold")
    for row in rows:
        prices = [
            "-" if row[key] is None else f"{row[key]:.3f}"
            for key in ("input_usd_per_mtok", "output_usd_per_mtok")
        ]
        key = row["api_key_env"] or "-"
        if row["api_key_env"] and not row["api_key_set"]:
            key += " (unset)"
        table.add_row(
            row["model"], row["provider"], *prices, str(row["context_window"]),
            row["price_source"], key,
        )  # fmt: skip
    console = Console()
    console.print(table)
    profiles = ", ".join(f"auto:{p}" for p in catalog.profiles) or "none"
    console.print(f"profiles: {profiles}; plain 'auto' = {catalog.default_profile or 'defaults'}")


def models(
    catalog: Annotated[Path | None, typer.Option(help="Catalog YAML; default: embedded")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per model")] = False,
) -> None:
    """List the catalog's models with their prices, context windows and profiles."""
    from router.catalog import load_catalog

    loaded = load_catalog(catalog or Settings().catalog)
    rows = _model_rows(loaded)
    if as_json:
        for row in rows:
            typer.echo(json.dumps(row))
        return
    _print_models(loaded, rows)
