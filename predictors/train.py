"""Training: records → prompt-grouped CV report → fitted artifact directory.

``train_artifact`` embeds every distinct prompt once, runs ``n_folds``-fold prompt-grouped
cross-validation of the learned router and the baselines (reported in the manifest's
``cv_metrics``; the same report ``eval --cv`` prints), fits the final model on all
records and writes the artifact (atomically; its version is a hash of its content).
Prices come from the catalog when one is given, else are fitted from the records'
costs (a fallback, recorded per model in ``price_source``), else there are none and
the artifact routes on quality only.
Regenerate the shipped default with::

    paretoroute train --data data/routerbench.jsonl.gz --out predictors/default_artifact
"""

from __future__ import annotations

import hashlib
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from predictors.artifact import DEFAULT_ARTIFACT, save_model
from predictors.crossval import cross_validate, structure_of
from predictors.datacheck import task_score_types
from predictors.embedders import Embedder, SentenceTransformerEmbedder, StaticEmbedder
from predictors.embedders.static import distill_static
from predictors.evaluate import json_safe, summarize
from predictors.pipeline import QualityModel
from predictors.price_fit import PriceTable
from predictors.pricing import Prices, resolve_prices
from predictors.prior import build_prior_stats
from predictors.prompts import embedding_text
from predictors.records import EvalRecord, RecordMatrix, pivot

Step = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class TrainOptions:
    """How to train: embedder kind (``static`` or ``minilm``), CV folds, seed, and the
    model factory (``QualityModel`` with its defaults unless a test asks for less)."""

    embedder: str = "static"
    n_folds: int = 5
    seed: int = 0
    static_source: Path | None = None
    make_model: Callable[[], QualityModel] = field(default=QualityModel)


def file_hash(paths: Sequence[Path]) -> str:
    """sha256 over the bytes of the training data files."""
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.read_bytes())
    return digest.hexdigest()


def prepare_embedder(
    options: TrainOptions, scratch: Path
) -> tuple[Embedder, dict[str, Any], Path | None]:
    """The embedder, its manifest entry and the folder to copy into the artifact (a
    static embedder: the shipped one, or one distilled into ``scratch``)."""
    if options.embedder == "minilm":
        embedder = SentenceTransformerEmbedder()
        return embedder, {"kind": "sentence-transformers", "id": embedder.id, "path": None}, None
    source = options.static_source or DEFAULT_ARTIFACT / "embedder"
    if not source.is_dir():
        source = scratch / "embedder"
        distill_static(source)
    static = StaticEmbedder(source)
    return static, {"kind": "static", "id": static.id, "path": "embedder"}, source


def model_spec(model: QualityModel) -> dict[str, Any]:
    """Hyper-parameters of every component, enough to rebuild them, and the learned
    choices stored as plain values (rounds, per-group gate, length priors)."""
    builder = model.features
    return {
        "prior": {k: v for k, v in vars(model.prior).items() if not k.endswith("_")},
        "quality_rounds": model.quality.n_rounds_,
        "builder": {"ks": list(builder.ks), "n_clusters": builder.n_clusters,
                    "n_components": builder.n_components, "random_state": builder.random_state},
        "quality": {k: v for k, v in vars(model.quality).items() if not k.endswith("_")},
        "length": {k: v for k, v in vars(model.length).items() if not k.endswith("_")},
        "quality_gate": model.quality.gate_.tolist(),
        "length_source": list(model.length.length_source_),
        "length_constant_tokens": model.length.constant_tokens_.tolist(),
    }  # fmt: skip


def cv_report(
    matrix: RecordMatrix, vectors: np.ndarray, prices: PriceTable, n_folds: int, seed: int = 0,
    step: Step | None = None, make_model: Callable[[], QualityModel] = QualityModel,
    pair: tuple[str | None, str | None] = (None, None),
) -> dict[str, Any]:  # fmt: skip
    """Prompt-grouped CV of the learned router and every baseline: the one report that
    ``train`` and ``eval --cv`` both print (``pair``: strong/weak, default the data's)."""
    result = cross_validate(matrix, vectors, n_folds, seed, make_model=make_model, on_fold=step)
    return summarize(matrix, result.quality, result.completion_tokens, prices,
                     folds=result.folds, strong=pair[0], weak=pair[1])  # fmt: skip


def train_artifact(
    records: Sequence[EvalRecord],
    data_files: Sequence[Path],
    out_dir: Path,
    options: TrainOptions = TrainOptions(),
    step: Step = lambda _: None,
    catalog_prices: Mapping[str, tuple[float, float]] | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Train, cross-validate and write an artifact; return (manifest, CV report)."""
    started = time.perf_counter()
    matrix = pivot(records)
    prices = resolve_prices(matrix.models, records, catalog_prices)
    with tempfile.TemporaryDirectory(prefix="paretoroute-train-") as scratch:
        embedder, embedder_entry, embedder_dir = prepare_embedder(options, Path(scratch))
        vectors = embedder.embed([embedding_text(p) for p in matrix.prompts])
        step("embedded prompts")
        report = (cv_report(matrix, vectors, prices.table, options.n_folds, options.seed, step,
                            options.make_model) if options.n_folds > 1 else {})  # fmt: skip
        model = options.make_model().fit(
            vectors, structure_of(matrix), matrix.scores, matrix.completion_tokens, matrix.tasks
        )
        step("fitted final model")
        manifest = json_safe(
            _manifest(records, data_files, matrix, model, prices, embedder_entry, report)
        )
        manifest["train_seconds"] = round(time.perf_counter() - started, 1)
        return save_model(model, out_dir, manifest, embedder_dir), report


def _manifest(
    records: Sequence[EvalRecord], data_files: Sequence[Path], matrix: RecordMatrix,
    model: QualityModel, prices: Prices, embedder_entry: dict[str, Any], report: dict[str, Any],
) -> dict[str, Any]:  # fmt: skip
    stats = {name: asdict(s) for name, s in build_prior_stats(records).items()}
    return {
        "created": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "embedder": embedder_entry,
        "models": list(matrix.models),
        "feature_spec": {**model_spec(model), "embedding_text": "last block, tail 800 chars"},
        "prices": {m: list(p) for m, p in prices.table.items()},
        "price_source": prices.source,
        "price_note": prices.note(),
        "length_source": dict(zip(matrix.models, model.length.length_source_, strict=True)),
        "groups": model.prior.group_names_,
        "task_gate": model.gate_report(),
        "score_types": task_score_types(matrix),
        "stats": json_safe(stats),
        "data": {"files": [p.name for p in data_files], "sha256": file_hash(data_files),
                 "n_prompts": len(matrix), "n_records": len(records)},
        "cv_metrics": _cv_digest(report),
    }  # fmt: skip


def _cv_digest(report: dict[str, Any]) -> dict[str, Any]:
    if not report:
        return {}
    return json_safe({
        "cost_metrics": report["cost_metrics"],
        "overall": report["overall"]["routers"],
        "per_task": {t: part["routers"] for t, part in report["per_task"].items()},
        "per_fold": report.get("per_fold", {}),
        "calibration": report.get("calibration", {}),
    })  # fmt: skip
