"""``paretoroute train | eval | data``: thin typer commands over ``predictors``.

``router.cli`` registers ``train_command``, ``eval_command`` and ``data_app``; batch
decisions are ``paretoroute route --input`` (``router.cli.route``). Heavy imports happen
inside each command.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

data_app = typer.Typer(help="Import eval data into the canonical eval-record JSONL; check it.")


def _progress(description: str, total: int) -> tuple[Any, Any]:
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    bar = Progress(TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn())
    return bar, bar.add_task(description, total=total)


def catalog_prices(catalog: Path | None) -> dict[str, tuple[float, float]] | None:
    """Hosted prices of ``--catalog``, else of ``PARETOROUTE_CATALOG``; None if neither."""
    from router.catalog import CatalogError, load_catalog
    from router.settings import Settings

    path = catalog or Settings().catalog
    if path is None:
        return None
    try:
        return load_catalog(path).prices()
    except CatalogError as error:
        raise typer.BadParameter(str(error), param_hint="--catalog") from None


CatalogOption = Annotated[
    Path | None, typer.Option(help="Catalog YAML whose prices to use [env PARETOROUTE_CATALOG]")
]


def train_command(
    data: Annotated[list[Path], typer.Option("--data", help="Eval-record JSONL(.gz) files")],
    out: Annotated[Path, typer.Option("--out", help="Artifact directory to write")],
    embedder: Annotated[str, typer.Option(help="static (fast, default) or minilm")] = "static",
    folds: Annotated[int, typer.Option(help="Prompt-grouped CV folds (0: skip CV)")] = 5,
    seed: Annotated[int, typer.Option()] = 0,
    catalog: CatalogOption = None,
) -> None:
    """Train the quality/length predictors, report CV metrics, write an artifact."""
    from predictors.records import load_records
    from predictors.report import report_lines
    from predictors.train import TrainOptions, train_artifact

    prices = catalog_prices(catalog)
    records = load_records(data)
    bar, task = _progress("training", total=3 + max(folds, 0))
    with bar:
        manifest, report = train_artifact(
            records, data, out, TrainOptions(embedder, folds, seed),
            step=lambda msg: bar.update(task, advance=1, description=msg),
            catalog_prices=prices,
        )  # fmt: skip
    lines = report_lines(report) if report else []
    for line in [*lines, *_train_notes(manifest)]:
        typer.echo(line)
    typer.echo(f"wrote {out} (version {manifest['version']}) in {manifest['train_seconds']} s")


def _train_notes(manifest: dict[str, Any]) -> list[str]:
    gate = ", ".join(f"{task}: {g['winner']}" for task, g in manifest["task_gate"].items())
    lengths: dict[str, list[str]] = {}
    for model, source in manifest["length_source"].items():
        lengths.setdefault(source, []).append(model)
    return [
        f"learned correction vs task prior per group (inner CV, accuracy@cw0): {gate}",
        "completion length: " + "; ".join(f"{s} ({len(m)} models)" for s, m in lengths.items()),
        manifest["price_note"],
    ]


def eval_command(
    data: Annotated[list[Path], typer.Option("--data", help="Eval-record JSONL(.gz) files")],
    report: Annotated[Path, typer.Option("--report", help="Folder for metrics.json and plots")],
    artifact: Annotated[
        Path | None,
        typer.Option(
            help="Artifact (default: shipped; with --cv: none, the recipe is trained on --data)"
        ),
    ] = None,
    strong: Annotated[str | None, typer.Option(help="APGR/CPT strong model [best]")] = None,
    weak: Annotated[str | None, typer.Option(help="APGR/CPT weak model [cheapest]")] = None,
    cv: Annotated[int, typer.Option(help="k>1: cross-validate the recipe on --data")] = 0,
    catalog: CatalogOption = None,
) -> None:
    """Accuracy at cost_weight 0 per task and, where costs exist, the cost sweep (AIQ,
    APGR/CPT), for the learned router and every baseline."""
    from predictors.heldout import EvalOptions, evaluate_command_impl
    from predictors.report import report_lines, write_report

    options = EvalOptions(cv, strong, weak, catalog_prices(catalog))
    summary, prices = evaluate_command_impl(artifact, data, options)
    for line in [*report_lines(summary), prices.note()]:
        typer.echo(line)
    files = ", ".join(path.name for path in data)
    how = (
        f"prompt-grouped {cv}-fold CV" if cv > 1 else f"held out, artifact {artifact or 'shipped'}"
    )
    written = write_report(summary, report, title=f"{files}: {how}")
    typer.echo("wrote " + ", ".join(str(p) for p in written))


@data_app.command("import-routerbench")
def import_routerbench_command(
    files: Annotated[list[Path], typer.Argument(help="RouterBench-layout CSV files")],
    out: Annotated[Path, typer.Option("--out", help="Eval-record JSONL(.gz)")],
) -> None:
    """RouterBench CSVs → eval records (sample_id → id, eval_name → task)."""
    from predictors.importers import import_routerbench
    from predictors.records import write_records

    typer.echo(f"wrote {write_records(import_routerbench(files), out)} records to {out}")


def _score_types(values: list[str]) -> dict[str, str]:
    from predictors.importers import SCORE_TYPES

    types: dict[str, str] = {}
    for value in values:
        task, sep, kind = value.rpartition("=")
        if kind not in SCORE_TYPES:
            raise typer.BadParameter(
                f"expected binary, graded or TASK=binary|graded, got {value!r}",
                param_hint="--score-type",
            )
        types[task if sep else "*"] = kind
    return types


@data_app.command("import-wide")
def import_wide_command(
    file: Annotated[
        Path,
        typer.Argument(
            help="Wide CSV: id, prompt, task (optional), one score column per model, optional "
            "<model>|cost_usd, <model>|prompt_tokens, <model>|completion_tokens columns"
        ),
    ],
    out: Annotated[Path, typer.Option("--out", help="Eval-record JSONL(.gz) to write")],
    id_column: Annotated[str, typer.Option()] = "id",
    prompt_column: Annotated[str, typer.Option()] = "prompt",
    task_column: Annotated[str, typer.Option(help="'' if there is none")] = "task",
    score_type: Annotated[
        list[str] | None,
        typer.Option(
            help="binary or graded (scores in 0..1), for every task or as TASK=TYPE; repeatable. "
            "A binary task's scores must be 0 or 1"
        ),
    ] = None,
) -> None:
    """Wide CSV (one row per prompt) → eval records (one line per prompt and model)."""
    from predictors.importers import WideLayout, import_wide
    from predictors.records import write_records

    layout = WideLayout(id_column, prompt_column, task_column or None,
                        _score_types(score_type or []))  # fmt: skip
    records = import_wide(file, layout)
    typer.echo(f"wrote {write_records(records, out)} records to {out}")


@data_app.command("check")
def check_command(
    files: Annotated[list[Path], typer.Argument(help="Eval-record JSONL(.gz) files")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON")] = False,
) -> None:
    """Summarise a data set and say what training and evaluation can do with it."""
    import json

    from predictors.datacheck import check_records, report_lines
    from predictors.records import load_records

    report = check_records(load_records(files))
    if as_json:
        typer.echo(json.dumps(report.to_json(), indent=1))
        return
    for line in report_lines(report):
        typer.echo(line)
