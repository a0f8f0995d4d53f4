"""``paretoroute log tail|export|stats``: read the request log from the command line."""

from __future__ import annotations

import csv
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import IO, TYPE_CHECKING, Annotated, Any

import typer

from router.settings import Settings

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from router.requestlog.query import LogStats

log_app = typer.Typer(help="Read the request log (tail, export, stats).", no_args_is_help=True)

DatabaseOption = Annotated[
    str | None,
    typer.Option(help="SQLAlchemy URL [env PARETOROUTE_DATABASE_URL; default: the data dir]"),
]
SinceOption = Annotated[
    str | None, typer.Option(help="Only rows since: 1h, 30m, 2d, 1w or an ISO time")
]


class ExportFormat(StrEnum):
    """Export file formats."""

    jsonl = "jsonl"
    csv = "csv"


def _engine(database_url: str | None) -> Engine:
    from router.requestlog.database import create_log_engine, has_schema, sqlite_file, upgrade
    from router.requestlog.database import database_url as default_url

    url = database_url or default_url(Settings())
    path = sqlite_file(url)
    if path is not None and not path.exists():
        raise typer.BadParameter(f"no request log at {path}", param_hint="--database-url")
    engine = create_log_engine(url)
    if not has_schema(engine):
        raise typer.BadParameter(f"no request log tables in {url}", param_hint="--database-url")
    upgrade(engine)
    return engine


def _since(text: str | None) -> datetime | None:
    from router.requestlog.query import parse_since

    if text is None:
        return None
    try:
        return parse_since(text)
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="--since") from None


def _fmt(value: float | None, digits: int = 6) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


@log_app.command("tail")
def tail_command(
    count: Annotated[int, typer.Option("-n", "--count", min=1, help="How many rows")] = 20,
    database_url: DatabaseOption = None,
) -> None:
    """The newest requests, oldest first."""
    from rich.console import Console
    from rich.table import Table

    from router.requestlog.query import tail

    table = Table(title="request log")
    for column in ("time", "request id", "endpoint", "asked", "model", "profile", "status"):
        table.add_column(column)
    for column in ("tokens in/out", "cost $", "total ms"):
        table.add_column(column, justify="right")
    for row in tail(_engine(database_url), count):
        status = str(row.status_code) + (f" {row.error_code}" if row.error_code else "")
        tokens = f"{row.prompt_tokens or '-'}/{row.completion_tokens or '-'}"
        table.add_row(
            row.created_at.strftime("%Y-%m-%d %H:%M:%S"),
            row.id,
            row.endpoint + (" stream" if row.stream else ""),
            row.requested_model or "-",
            row.chosen_model or "-",
            row.profile or "-",
            status,
            tokens,
            _fmt(row.cost_usd),
            _fmt(row.total_ms, 1),
        )
    Console().print(table)


@contextmanager
def _output(out: Path | None) -> Iterator[IO[str]]:
    if out is None:
        yield sys.stdout
        return
    with out.open("w", encoding="utf-8", newline="") as handle:
        yield handle


def _csv_value(value: Any) -> Any:
    import orjson

    if isinstance(value, list | dict):
        return orjson.dumps(value).decode()
    return value.isoformat() if isinstance(value, datetime) else value


@log_app.command("export")
def export_command(
    format: Annotated[ExportFormat, typer.Option("--format", help="jsonl or csv")],
    since: SinceOption = None,
    out: Annotated[Path | None, typer.Option(help="File to write; default stdout")] = None,
    database_url: DatabaseOption = None,
) -> None:
    """Every column of the rows since a time, with their feedback, as JSON lines or CSV."""
    import orjson

    from router.requestlog.query import EXPORT_COLUMNS, rows_since

    start = _since(since)
    rows = rows_since(_engine(database_url), start)
    with _output(out) as handle:
        if format is ExportFormat.jsonl:
            for row in rows:
                handle.write(orjson.dumps(row).decode() + "\n")
            return
        writer = csv.DictWriter(handle, fieldnames=EXPORT_COLUMNS)
        writer.writeheader()
        for row in rows:
            writer.writerow({key: _csv_value(value) for key, value in row.items()})


def _stats_table(result: LogStats, window: str) -> Any:
    from rich.table import Table

    table = Table(title=f"request log, {window}")
    for column in ("model", "requests", "share", "errors", "spend $"):
        table.add_column(column, justify="left" if column == "model" else "right")
    for name, share in sorted(result.models.items(), key=lambda item: -item[1].requests):
        table.add_row(
            name,
            str(share.requests),
            f"{share.requests / result.requests:.1%}",
            str(share.errors),
            _fmt(share.spend_usd),
        )
    table.add_section()
    table.add_row("all", str(result.requests), "100.0%", str(result.errors), _fmt(result.spend_usd))
    return table


@log_app.command("stats")
def stats_command(since: SinceOption = None, database_url: DatabaseOption = None) -> None:
    """Spend, savings against the most expensive model, and model mix over a window."""
    from rich.console import Console

    from router.requestlog.query import stats

    start = _since(since)
    result = stats(_engine(database_url), start)
    console = Console()
    window = f"since {since}" if since else "all time"
    if result.requests == 0:
        console.print(f"no requests logged ({window})")
        return
    console.print(_stats_table(result, window))
    console.print(
        f"spend ${result.spend_usd:.6f}; routed answered requests: {result.routed}, "
        f"most-expensive-model cost ${result.reference_usd:.6f}, "
        f"savings ${result.savings_usd:.6f}"
    )
