"""Training: records → prompt-grouped CV report → fitted artifact directory.

``train_artifact`` embeds every distinct prompt once, runs ``n_folds``-fold prompt-grouped
cross-validation of the learned router and the baselines (reported in the manifest's
``cv_metrics``), fits the final model on all records and writes the artifact.
Regenerate the shipped default with::

    paretoroute train --data data/routerbench.jsonl.gz --out predictors/default_artifact
"""

from __future__ import annotations

import hashlib
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from predictors.artifact import DEFAULT_ARTIFACT, save_model
from predictors.crossval import cross_validate, structure_of
from predictors.embedders import Embedder, SentenceTransformerEmbedder, StaticEmbedder
from predictors.embedders.static import distill_static
from predictors.evaluate import summarize
from predictors.pipeline import QualityModel
from predictors.price_fit import fit_prices
from predictors.prior import build_prior_stats
from predictors.prompts import embedding_text
from predictors.records import EvalRecord, RecordMatrix, pivot

Step = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class TrainOptions:
    """How to train: embedder kind (``static`` or ``minilm``), CV folds, seed."""

    embedder: str = "static"
    n_folds: int = 5
    seed: int = 0
    static_source: Path | None = None


def file_hash(paths: Sequence[Path]) -> str:
    """sha256 over the bytes of the training data files."""
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.read_bytes())
    return digest.hexdigest()


def prepare_embedder(options: TrainOptions, out_dir: Path) -> tuple[Embedder, dict[str, Any]]:
    """The embedder and its manifest entry; a static one is copied into the artifact."""
    if options.embedder == "minilm":
        embedder = SentenceTransformerEmbedder()
        return embedder, {"kind": "sentence-transformers", "id": embedder.id, "path": None}
    target = out_dir / "embedder"
    source = options.static_source or DEFAULT_ARTIFACT / "embedder"
    if target.resolve() != source.resolve():
        shutil.rmtree(target, ignore_errors=True)
        if source.is_dir():
            shutil.copytree(source, target)
        else:
            distill_static(target)
    static = StaticEmbedder(target)
    return static, {"kind": "static", "id": static.id, "path": "embedder"}


def model_spec(model: QualityModel) -> dict[str, Any]:
    """Hyper-parameters of every component, enough to rebuild them."""
    builder = model.features
    return {
        "prior": {k: v for k, v in vars(model.prior).items() if not k.endswith("_")},
        "quality_rounds": model.quality.n_rounds_,
        "builder": {"ks": list(builder.ks), "n_clusters": builder.n_clusters,
                    "n_components": builder.n_components, "random_state": builder.random_state},
        "quality": {k: v for k, v in vars(model.quality).items() if not k.endswith("_")},
        "length": {k: v for k, v in vars(model.length).items() if not k.endswith("_")},
    }  # fmt: skip


def cv_report(
    matrix: RecordMatrix, vectors: np.ndarray, prices: dict, options: TrainOptions, step: Step
) -> dict[str, Any]:
    """Prompt-grouped CV of the learned router and the baselines."""
    result = cross_validate(matrix, vectors, options.n_folds, options.seed, on_fold=step)
    return summarize(matrix, result.quality, result.completion_tokens, prices, folds=result.folds)


def train_artifact(
    records: Sequence[EvalRecord],
    data_files: Sequence[Path],
    out_dir: Path,
    options: TrainOptions = TrainOptions(),
    step: Step = lambda _: None,
) -> dict[str, Any]:
    """Train, cross-validate and write an artifact; return its manifest."""
    started = time.perf_counter()
    out_dir.mkdir(parents=True, exist_ok=True)
    matrix, prices = pivot(records), fit_prices(records)
    embedder, embedder_entry = prepare_embedder(options, out_dir)
    vectors = embedder.embed([embedding_text(p) for p in matrix.prompts])
    step("embedded prompts")
    report = cv_report(matrix, vectors, prices, options, step) if options.n_folds > 1 else {}
    model = QualityModel().fit(
        vectors, structure_of(matrix), matrix.scores, matrix.completion_tokens, matrix.tasks
    )
    step("fitted final model")
    stats = {name: asdict(s) for name, s in build_prior_stats(records).items()}
    manifest = {
        "version": f"{time.strftime('%Y%m%d')}-{file_hash(data_files)[:8]}",
        "created": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "embedder": embedder_entry,
        "models": list(matrix.models),
        "feature_spec": {**model_spec(model), "embedding_text": "last block, tail 800 chars"},
        "prices": {m: list(p) for m, p in prices.items()},
        "stats": stats,
        "data": {"files": [p.name for p in data_files], "sha256": file_hash(data_files),
                 "n_prompts": len(matrix), "n_records": len(records)},
        "cv_metrics": _cv_digest(report),
        "train_seconds": round(time.perf_counter() - started, 1),
    }  # fmt: skip
    save_model(model, out_dir, manifest)
    return manifest


def _cv_digest(report: dict[str, Any]) -> dict[str, Any]:
    if not report:
        return {}
    routers = report["overall"]["routers"]
    return {
        "aiq": {name: values["aiq"] for name, values in routers.items()},
        "per_fold": report.get("per_fold", {}),
        "calibration": report.get("calibration", {}),
    }
