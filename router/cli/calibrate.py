"""``paretoroute calibrate``: the cost_weight that keeps Q% of a reference model's quality.

Reads eval records (JSONL, validated by ``predictors.records``: one line per (prompt,
model) with ``id``, ``prompt``, ``model``, ``score`` and optionally ``cost_usd``,
``prompt_tokens``, ``completion_tokens``), pivots them with ``predictors.records.pivot``,
runs ``policies.calibrate.calibrate`` and writes ``profiles: {NAME: {cost_weight: W}}``
into a YAML file (``--out``; without it the YAML is printed). Records lacking
``cost_usd`` are priced from ``--catalog`` with the one hosted cost formula
(``policies.cost.hosted_cost``). The recorded scores always *measure* the outcome; what
*steers* the choice is ``--steer``: ``artifact`` (default: the scorer the server routes
with, built from ``Settings``; in-sample if it was trained on these records), ``prior``
(each model's mean recorded score), or ``oracle`` (hindsight, an upper bound only).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer

from policies.calibrate import CalibrationResult
from policies.calibrate import calibrate as calibrate_weights
from policies.cost import hosted_cost
from policies.types import FloatArray
from predictors.records import RecordMatrix
from router.settings import Settings


def priced(matrix: RecordMatrix, prices: Mapping[str, tuple[float, float]]) -> RecordMatrix:
    """``matrix`` with missing costs filled from ``prices`` (prompt tokens counted when
    absent; a cell without completion tokens stays NaN)."""
    if not prices:
        return matrix
    from predictors.tokens import count_prompt_tokens

    counted = np.array([count_prompt_tokens(p) for p in matrix.prompts], dtype=np.float64)
    prompt_tokens = np.where(np.isnan(matrix.prompt_tokens), counted, matrix.prompt_tokens)
    unit = np.array([prices.get(m, (np.nan, np.nan)) for m in matrix.models], dtype=np.float64)
    filled = hosted_cost(prompt_tokens[:, None], matrix.completion_tokens, unit[:, 0], unit[:, 1])
    cost = np.where(np.isnan(matrix.cost_usd), filled, matrix.cost_usd)
    return RecordMatrix(
        matrix.ids, matrix.prompts, matrix.tasks, matrix.models, matrix.scores,
        cost, prompt_tokens, matrix.completion_tokens,
    )  # fmt: skip


def record_matrix(path: Path, prices: Mapping[str, tuple[float, float]]) -> RecordMatrix:
    """Validated records from ``path`` pivoted to prompts x models, priced."""
    from predictors.records import load_records, pivot

    return priced(pivot(load_records(path)), prices)


def calibrate_matrix(
    matrix: RecordMatrix, reference: str, target: float, predicted: FloatArray | None = None
) -> CalibrationResult:
    """Calibrate on rows where the reference has a result; ``predicted`` steers if given."""
    if reference not in matrix.models:
        raise ValueError(f"reference model {reference!r} is not in the records {matrix.models}")
    keep = ~np.isnan(matrix.scores[:, matrix.models.index(reference)])
    steer = prior_quality(matrix.scores) if predicted is None else predicted
    return calibrate_weights(
        steer[keep],
        matrix.cost_usd[keep],
        matrix.models,
        reference,
        target,
        realised=matrix.scores[keep],
    )


def artifact_quality(matrix: RecordMatrix, settings: Settings) -> FloatArray:
    """The configured scorer's quality for every (row, model) of the matrix."""
    from predictors.base import ModelCard
    from router.services import build_scorer

    cards = [ModelCard(name=name) for name in matrix.models]
    quality = build_scorer(settings).score(list(matrix.prompts), cards).quality
    return np.where(np.isnan(matrix.scores), np.nan, quality)


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

    from predictors.errors import PredictorError

    settings = Settings() if artifact is None else Settings(artifact=artifact)
    prices: dict[str, tuple[float, float]] = {}
    if catalog is not None:
        from router.catalog import price_table

        prices = price_table(catalog)
    if steer not in {"artifact", "prior", "oracle"}:
        raise typer.BadParameter("--steer must be 'artifact', 'prior' or 'oracle'")
    try:
        matrix = record_matrix(data, prices)
        predicted = {
            "oracle": lambda: matrix.scores,
            "artifact": lambda: artifact_quality(matrix, settings),
            "prior": lambda: None,
        }[steer]()
        result = calibrate_matrix(matrix, reference, target, predicted)
    except (ValueError, PredictorError) as error:
        raise typer.BadParameter(str(error)) from None
    _print_result(result)
    if steer == "artifact":
        _print_overlap(data, settings, matrix)
    if out is None:
        typer.echo(yaml.safe_dump(updated_profiles({}, profile, result.cost_weight)))
        return
    from router.catalog import default_catalog_path
    from router.cli.catalog_file import write_profile

    write_profile(
        out, catalog or default_catalog_path(), profile, {"cost_weight": result.cost_weight}
    )
    typer.echo(f"wrote profile {profile!r} (cost_weight={result.cost_weight:g}) to {out}")


def _print_overlap(data: Path, settings: Settings, matrix: RecordMatrix) -> None:
    from predictors.artifact import DEFAULT_ARTIFACT, read_manifest
    from router.cli.training_overlap import overlap_note

    manifest = read_manifest(settings.artifact or DEFAULT_ARTIFACT)
    typer.echo(f"calibration data: {overlap_note(data, manifest, set(matrix.ids))}")
