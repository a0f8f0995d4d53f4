"""``paretoroute train | eval | data``: thin typer commands over ``predictors``.

``router.cli`` registers ``train_command``, ``eval_command`` and ``data_app``; batch
decisions are ``paretoroute route --input`` (``router.cli.route``). Heavy imports happen
inside each command.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

data_app = typer.Typer(help="Convert eval data into the canonical eval-record JSONL.")


def _progress(description: str, total: int) -> tuple[Any, Any]:
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    bar = Progress(TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn())
    return bar, bar.add_task(description, total=total)


def train_command(
    data: Annotated[list[Path], typer.Option("--data", help="Eval-record JSONL(.gz) files")],
    out: Annotated[Path, typer.Option("--out", help="Artifact directory to write")],
    embedder: Annotated[str, typer.Option(help="static (fast, default) or minilm")] = "static",
    folds: Annotated[int, typer.Option(help="Prompt-grouped CV folds (0: skip CV)")] = 5,
    seed: Annotated[int, typer.Option()] = 0,
) -> None:
    """Train the quality/length predictors, report CV metrics, write an artifact."""
    from predictors.records import load_records
    from predictors.train import TrainOptions, train_artifact

    bar, task = _progress("training", total=3 + max(folds, 0))
    with bar:
        records = load_records(data)
        manifest = train_artifact(
            records, data, out, TrainOptions(embedder, folds, seed),
            step=lambda msg: bar.update(task, advance=1, description=msg),
        )  # fmt: skip
    for name, value in manifest["cv_metrics"].get("per_fold", {}).items():
        typer.echo(f"{name:>18}: AIQ {value['mean']:.4f} ± {value['std']:.4f} (fold std)")
    typer.echo(f"wrote {out} in {manifest['train_seconds']} s")


def eval_command(
    data: Annotated[list[Path], typer.Option("--data", help="Eval-record JSONL(.gz) files")],
    report: Annotated[Path, typer.Option("--report", help="Folder for metrics.json, pareto.png")],
    artifact: Annotated[Path | None, typer.Option(help="Artifact (default: shipped)")] = None,
    strong: Annotated[str, typer.Option()] = "gpt-4-1106-preview",
    weak: Annotated[str, typer.Option()] = "mistralai/mixtral-8x7b-chat",
    cv: Annotated[int, typer.Option(help="k>1: cross-validate the recipe on --data")] = 0,
) -> None:
    """Sweep the cost trade-off; report AIQ, APGR/CPT, calibration and baselines."""
    from predictors.heldout import evaluate_command_impl

    summary = evaluate_command_impl(artifact, data, report, strong, weak, cv)
    for name, values in summary["overall"]["routers"].items():
        typer.echo(f"{name:>18}: AIQ {values['aiq']:.4f}  max quality {values['max_quality']:.4f}")
    typer.echo(f"wrote {report / 'metrics.json'} and {report / 'pareto.png'}")


@data_app.command("import-routerbench")
def import_routerbench_command(
    files: Annotated[list[Path], typer.Argument(help="RouterBench-layout CSV files")],
    out: Annotated[Path, typer.Option("--out", help="Eval-record JSONL(.gz)")],
) -> None:
    """RouterBench CSVs → eval records (sample_id → id, eval_name → task)."""
    from predictors.importers import import_routerbench
    from predictors.records import write_records

    typer.echo(f"wrote {write_records(import_routerbench(files), out)} records to {out}")


@data_app.command("import-wide")
def import_wide_command(
    file: Annotated[
        Path, typer.Argument(help="Wide CSV: id, prompt, [task], one column per model")
    ],
    out: Annotated[Path, typer.Option("--out")],
    id_column: Annotated[str, typer.Option()] = "id",
    prompt_column: Annotated[str, typer.Option()] = "prompt",
    task_column: Annotated[str, typer.Option()] = "task",
) -> None:
    """Wide CSV → eval records."""
    from predictors.importers import import_wide
    from predictors.records import write_records

    records = import_wide(file, id_column=id_column, prompt_column=prompt_column,
                          task_column=task_column)  # fmt: skip
    typer.echo(f"wrote {write_records(records, out)} records to {out}")
