"""``paretoroute calibrate``: the cost_weight that keeps Q% of a reference model's quality.

Reads eval records (JSONL, one line per (prompt, model):
``{"id", "prompt", "model", "score", "cost_usd"?, "completion_tokens"?, "response"?}``),
builds the prompts x models score and cost matrices, runs
``policies.calibrate.calibrate`` and writes ``profiles: {NAME: {cost_weight: W}}`` into a
YAML file (``--out``; without it the YAML is printed). Records lacking ``cost_usd`` are
priced from ``--catalog`` (prompt tokens x input price + completion tokens x output
price). The recorded scores always *measure* the outcome; what *steers* the choice is
``--steer``: ``artifact`` (default: the trained predictor the server routes with, so the
weight found is on the same scale as the server's predictions; in-sample if the
artifact was trained on these records), ``prior`` (each model's mean recorded score, a
prompt-independent predictor), or ``oracle`` (the recorded per-prompt score: hindsight,
an upper bound only).
"""

from __future__ import annotations

import gzip
import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer

from policies.calibrate import CalibrationResult
from policies.calibrate import calibrate as calibrate_weights
from policies.types import FloatArray


@dataclass(frozen=True, slots=True)
class EvalMatrix:
    """Recorded outcomes: one row per prompt id, one column per model (NaN = missing)."""

    ids: tuple[str, ...]
    models: tuple[str, ...]
    score: FloatArray
    cost_usd: FloatArray
    #: The prompt of each row (text or messages), for a scorer to steer with.
    prompts: tuple[Any, ...] = ()


def _record_cost(record: Mapping[str, Any], prices: Mapping[str, tuple[float, float]]) -> float:
    if record.get("cost_usd") is not None:
        return float(record["cost_usd"])
    if record["model"] not in prices:
        return math.nan
    from predictors.tokens import count_tokens

    completion = record.get("completion_tokens")
    if completion is None:
        completion = count_tokens(str(record.get("response") or ""))
    per_in, per_out = prices[record["model"]]
    return count_tokens(str(record.get("prompt") or "")) * per_in + float(completion) * per_out


def eval_matrix(
    records: Iterable[Mapping[str, Any]], prices: Mapping[str, tuple[float, float]] | None = None
) -> EvalMatrix:
    """Pivot eval records into score and cost matrices (records without a score skipped)."""
    rows: dict[str, int] = {}
    columns: dict[str, int] = {}
    prompts: list[Any] = []
    cells: list[tuple[int, int, float, float]] = []
    for record in records:
        if record.get("score") is None:
            continue
        if str(record["id"]) not in rows:
            prompts.append(record.get("prompt") or "")
        row = rows.setdefault(str(record["id"]), len(rows))
        column = columns.setdefault(str(record["model"]), len(columns))
        cells.append((row, column, float(record["score"]), _record_cost(record, prices or {})))
    score = np.full((len(rows), len(columns)), np.nan)
    cost = np.full((len(rows), len(columns)), np.nan)
    for row, column, value, price in cells:
        score[row, column], cost[row, column] = value, price
    return EvalMatrix(tuple(rows), tuple(columns), score, cost, tuple(prompts))


def read_records(path: Path) -> list[dict[str, Any]]:
    """Eval records from a JSONL (or gzip JSONL) file; blank lines ignored."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]


def calibrate_matrix(
    matrix: EvalMatrix, reference: str, target: float, predicted: FloatArray | None = None
) -> CalibrationResult:
    """Calibrate on rows where the reference has a result; ``predicted`` steers if given."""
    if reference not in matrix.models:
        raise ValueError(f"reference model {reference!r} is not in the records {matrix.models}")
    keep = ~np.isnan(matrix.score[:, matrix.models.index(reference)])
    steer = prior_quality(matrix.score) if predicted is None else predicted
    return calibrate_weights(
        steer[keep],
        matrix.cost_usd[keep],
        matrix.models,
        reference,
        target,
        realised=matrix.score[keep],
    )


def artifact_quality(matrix: EvalMatrix, artifact: Path | None) -> FloatArray:
    """The trained predictor's quality for every (row, model) of the matrix."""
    from predictors.artifact import load_scorer
    from predictors.base import ModelCard

    scorer = load_scorer(artifact)
    cards = [ModelCard(name=name) for name in matrix.models]
    quality = scorer.score(list(matrix.prompts), cards).quality
    return np.where(np.isnan(matrix.score), np.nan, quality)


def prior_quality(score: FloatArray) -> FloatArray:
    """Each model's mean recorded score on every row (NaN kept where it has no result)."""
    means = np.nanmean(score, axis=0)
    return np.where(np.isnan(score), np.nan, np.broadcast_to(means, score.shape))


def updated_profiles(
    document: Mapping[str, Any], profile: str, cost_weight: float
) -> dict[str, Any]:
    """``document`` with ``profiles[profile].cost_weight`` set (other keys kept)."""
    updated = dict(document)
    profiles = dict(updated.get("profiles") or {})
    profiles[profile] = {**dict(profiles.get(profile) or {}), "cost_weight": cost_weight}
    updated["profiles"] = profiles
    return updated


def _print_result(result: CalibrationResult) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"cost_weight = {result.cost_weight:g} quality points per USD")
    for column in ("model", "share of traffic", "quality when chosen"):
        table.add_column(column, justify="right" if column != "model" else "left")
    for name, share, quality in zip(
        result.models, result.share, result.quality_when_chosen, strict=True
    ):
        table.add_row(name, f"{share:.1%}", "-" if np.isnan(quality) else f"{quality:.3f}")
    console = Console()
    console.print(table)
    saving = 1.0 - result.expected_cost / result.reference_cost if result.reference_cost else 0.0
    console.print(
        f"reference {result.reference}: quality {result.reference_quality:.4f}, "
        f"cost ${result.reference_cost:.3g}/request\n"
        f"target {result.target_quality:.4f} {'reached' if result.reached else 'NOT reached'}: "
        f"expected quality {result.expected_quality:.4f}, cost "
        f"${result.expected_cost:.3g}/request ({saving:.1%} cheaper than the reference)"
    )


def calibrate(
    data: Annotated[Path, typer.Option(help="Eval records, JSONL", exists=True, dir_okay=False)],
    reference: Annotated[str, typer.Option(help="Reference model R")],
    target: Annotated[float, typer.Option(help="Fraction of R's mean quality to keep")] = 0.95,
    profile: Annotated[str, typer.Option(help="Profile name to write")] = "quality-target",
    catalog: Annotated[
        Path | None, typer.Option(help="Catalog for prices of records without cost_usd")
    ] = None,
    out: Annotated[
        Path | None, typer.Option(help="YAML file to create or update (default: print)")
    ] = None,
    steer: Annotated[
        str, typer.Option(help="What steers the choice: artifact, prior or oracle (upper bound)")
    ] = "artifact",
    artifact: Annotated[
        Path | None, typer.Option(help="Predictor artifact for --steer artifact (default: shipped)")
    ] = None,
) -> None:
    """Find the cost_weight that reaches TARGET x REFERENCE's quality at least cost."""
    import yaml

    prices = {}
    if catalog is not None:
        from router.catalog import price_table

        prices = price_table(catalog)
    if steer not in {"artifact", "prior", "oracle"}:
        raise typer.BadParameter("--steer must be 'artifact', 'prior' or 'oracle'")
    try:
        matrix = eval_matrix(read_records(data), prices)
        predicted = {
            "oracle": lambda: matrix.score,
            "artifact": lambda: artifact_quality(matrix, artifact),
            "prior": lambda: None,
        }[steer]()
        result = calibrate_matrix(matrix, reference, target, predicted)
    except ValueError as error:
        raise typer.BadParameter(str(error)) from None
    _print_result(result)
    document = yaml.safe_load(out.read_text()) if out is not None and out.exists() else {}
    text = yaml.safe_dump(
        updated_profiles(document or {}, profile, result.cost_weight), sort_keys=False
    )
    if out is None:
        typer.echo(text)
    else:
        out.write_text(text)
        typer.echo(f"wrote profile {profile!r} (cost_weight={result.cost_weight:g}) to {out}")
