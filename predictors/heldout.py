"""``eval`` implementation: score data with an artifact (held-out) or cross-validate it.

Held-out mode (``cv <= 1``): the artifact predicts the data; kNN and MLP baselines are
fitted on the artifact's stored training vectors and scores, the task prior on the
stored per-task means. CV mode: the artifact's recipe (embedder, features, model) is
cross-validated on the data with every baseline in the same folds.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from predictors.artifact import load_scorer
from predictors.baselines import knn_quality, mlp_quality
from predictors.crossval import cross_validate
from predictors.evaluate import summarize, write_report
from predictors.prompts import embedding_text
from predictors.records import load_records, pivot
from predictors.scorer import ArtifactScorer


def _aligned(matrix_models: tuple[str, ...], scorer: ArtifactScorer, q: np.ndarray) -> np.ndarray:
    out = np.full((len(q), len(matrix_models)), np.nan)
    for col, model in enumerate(matrix_models):
        if model in scorer.models:
            out[:, col] = q[:, scorer.models.index(model)]
    return out


def evaluate_command_impl(
    artifact: Path | None, data: list[Path], report_dir: Path, strong: str, weak: str, cv: int
) -> dict[str, Any]:
    """Run the evaluation and write ``metrics.json`` and ``pareto.png``."""
    scorer = load_scorer(artifact)
    assert isinstance(scorer, ArtifactScorer)
    records = load_records(data)
    matrix = pivot(records)
    prices = {m: (p[0], p[1]) for m, p in scorer.manifest["prices"].items()}
    vectors = scorer.embedder.embed([embedding_text(p) for p in matrix.prompts])
    folds = None
    if cv > 1:
        result = cross_validate(matrix, vectors, cv)
        quality, tokens, folds = result.quality, result.completion_tokens, result.folds
    else:
        q, t = scorer.predict_known(list(matrix.prompts))
        feats = scorer.model.features
        train_v, train_s = feats.train_vectors_, feats.train_scores_
        quality = {
            "learned": q,
            "knn": knn_quality(train_v, train_s, vectors),
            "mlp": mlp_quality(train_v, train_s, vectors),
        }
        quality = {name: _aligned(matrix.models, scorer, v) for name, v in quality.items()}
        tokens = _aligned(matrix.models, scorer, t)
    has_pair = strong in matrix.models and weak in matrix.models
    summary = summarize(
        matrix, quality, tokens, prices, folds=folds,
        strong=strong if has_pair else None, weak=weak if has_pair else None,
    )  # fmt: skip
    write_report(summary, report_dir)
    return summary
