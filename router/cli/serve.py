"""``paretoroute serve`` and ``paretoroute models``."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any

import typer

from router.settings import Settings


def _settings(
    host: str | None, port: int | None, catalog: Path | None, artifact: str | None
) -> Settings:
    overrides: dict[str, Any] = {
        key: value
        for key, value in {
            "host": host,
            "port": port,
            "catalog": catalog,
            "artifact": artifact,
        }.items()
        if value is not None
    }
    return Settings(**overrides)


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
) -> None:
    """Start the OpenAI-compatible router (one uvicorn worker)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    import uvicorn

    from router.app import create_app
    from router.limits.server import header_timeout_protocol

    settings = _settings(host, port, catalog, artifact)
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        access_log=settings.access_log,
        loop="uvloop",
        http=header_timeout_protocol(settings.header_timeout_s),
        timeout_keep_alive=settings.keep_alive_timeout_s,
        timeout_graceful_shutdown=settings.graceful_shutdown_s,
    )


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
