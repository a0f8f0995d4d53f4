"""``eval`` implementation: score data with an artifact (held-out) or cross-validate it.

Held-out mode (``cv <= 1``): the artifact (default: the shipped one) predicts the data;
kNN and MLP baselines are fitted on the artifact's stored training vectors and scores,
the task prior and the best single model on its stored training scores. CV mode: the
recipe (embedder, features, model) is cross-validated on the data with every baseline
in the same folds, exactly as ``train`` reports it; without ``--artifact`` it borrows
nothing from the shipped artifact but its embedder.

Prices: the catalog's (``--catalog``) where it has one, else the artifact's (only an
artifact given or used for held-out scoring), else fitted from the data's costs, else
none (quality-only metrics).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from predictors.artifact import DEFAULT_ARTIFACT, load_embedder, load_scorer, read_manifest
from predictors.baselines import knn_quality, mlp_quality, task_prior_quality
from predictors.evaluate import summarize
from predictors.pricing import Prices, resolve_prices
from predictors.prompts import embedding_text
from predictors.records import RecordMatrix, load_records, pivot
from predictors.scorer import ArtifactScorer
from predictors.train import cv_report


@dataclass(frozen=True, slots=True)
class EvalOptions:
    """What ``eval`` runs: CV folds (``<= 1``: held-out), the strong/weak pair (default:
    the data's best and cheapest models) and catalog prices."""

    cv: int = 0
    strong: str | None = None
    weak: str | None = None
    catalog_prices: Mapping[str, tuple[float, float]] | None = None


def _aligned(matrix_models: tuple[str, ...], scorer: ArtifactScorer, q: np.ndarray) -> np.ndarray:
    out = np.full((len(q), len(matrix_models)), np.nan)
    for col, model in enumerate(matrix_models):
        if model in scorer.models:
            out[:, col] = q[:, scorer.models.index(model)]
    return out


def _heldout_quality(
    scorer: ArtifactScorer, matrix: RecordMatrix, vectors: np.ndarray
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    q, tokens = scorer.predict_known(list(matrix.prompts))
    feats = scorer.model.features
    train_v, train_s = feats.train_vectors_, feats.train_scores_
    names = scorer.model.prior.group_names_
    train_tasks = [names[g] for g in feats.train_groups_]
    quality = {
        "learned": q,
        "knn": knn_quality(train_v, train_s, vectors),
        "mlp": mlp_quality(train_v, train_s, vectors),
        "task-prior": task_prior_quality(train_tasks, train_s, list(matrix.tasks)),
        "best-single": np.tile(np.nanmean(train_s, axis=0), (len(matrix), 1)),
    }
    aligned = {name: _aligned(matrix.models, scorer, v) for name, v in quality.items()}
    return aligned, _aligned(matrix.models, scorer, tokens)


def evaluate_command_impl(
    artifact: Path | None, data: Sequence[Path], options: EvalOptions
) -> tuple[dict[str, Any], Prices]:
    """Run the evaluation; return the report and the prices it used."""
    records = load_records(list(data))
    matrix = pivot(records)
    pair = (options.strong, options.weak)
    if options.cv > 1 and artifact is None:
        embedder = load_embedder(DEFAULT_ARTIFACT, read_manifest(DEFAULT_ARTIFACT))
        prices = resolve_prices(matrix.models, records, options.catalog_prices)
        vectors = embedder.embed([embedding_text(p) for p in matrix.prompts])
        return cv_report(matrix, vectors, prices.table, options.cv, pair=pair), prices
    scorer = load_scorer(artifact)
    assert isinstance(scorer, ArtifactScorer)
    stored = {m: (p[0], p[1]) for m, p in scorer.manifest["prices"].items()}
    prices = resolve_prices(matrix.models, records, options.catalog_prices, stored)
    vectors = scorer.embedder.embed([embedding_text(p) for p in matrix.prompts])
    if options.cv > 1:
        return cv_report(matrix, vectors, prices.table, options.cv, pair=pair), prices
    quality, tokens = _heldout_quality(scorer, matrix, vectors)
    report = summarize(matrix, quality, tokens, prices.table,
                       strong=options.strong, weak=options.weak)  # fmt: skip
    return report, prices
