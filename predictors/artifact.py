"""Versioned artifact directories: save a trained router, load it back as a ``Scorer``.

Layout of an artifact directory::

    manifest.json     format version, embedder id, model list, feature spec, hyper-
                      parameters, prices, per-model record stats, CV metrics, data hash
    arrays.npz        feature-builder state (training vectors/scores/groups, PCA,
                      centroids, cluster means) and the group prior (input scaling,
                      classifier weights, per-group model means), prefixed ``prior.``
    quality/stacked.txt  the residual LightGBM quality booster (absent if 0 rounds)
    length/<j>.txt    LightGBM length booster of model j
    embedder/         the model2vec static embedder (when the artifact uses one)

``load_scorer(None)`` loads the default artifact shipped in ``predictors/default_artifact``.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np

from predictors.base import Scorer
from predictors.embedders import Embedder, SentenceTransformerEmbedder, StaticEmbedder
from predictors.errors import ArtifactError
from predictors.features import FeatureBuilder
from predictors.groups import GroupPrior
from predictors.length import LengthPredictor
from predictors.pipeline import QualityModel
from predictors.stacked import StackedQualityPredictor

#: 2: group prior + one stacked residual booster (1 had 11 Platt-calibrated boosters).
FORMAT_VERSION = 2
DEFAULT_ARTIFACT = Path(__file__).with_name("default_artifact")
_FEATURE_ARRAYS = (
    "train_vectors_", "train_scores_", "model_means_", "mean_vector_", "components_",
    "centroids_", "cluster_means_", "train_groups_",
)  # fmt: skip
_PRIOR_ARRAYS = ("input_mean_", "input_scale_", "coef_", "intercept_", "group_means_")


def save_model(model: QualityModel, out_dir: Path, manifest: dict[str, Any]) -> None:
    """Write the fitted model's arrays and boosters plus ``manifest.json``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    arrays = {name: getattr(model.features, name) for name in _FEATURE_ARRAYS}
    arrays["train_vectors_"] = arrays["train_vectors_"].astype(np.float16)
    arrays |= {f"prior.{name}": getattr(model.prior, name) for name in _PRIOR_ARRAYS}
    np.savez_compressed(out_dir / "arrays.npz", **arrays)
    for kind in ("quality", "length"):
        shutil.rmtree(out_dir / kind, ignore_errors=True)
        (out_dir / kind).mkdir()
    if model.quality.booster_ is not None:
        model.quality.booster_.save_model(str(out_dir / "quality" / "stacked.txt"))
    for j, booster in enumerate(model.length.boosters_):
        booster.save_model(str(out_dir / "length" / f"{j}.txt"))
    body = {"format_version": FORMAT_VERSION, "scorer": "stacked", **manifest}
    (out_dir / "manifest.json").write_text(json.dumps(body, indent=1) + "\n", encoding="utf-8")


def read_manifest(path: Path) -> dict[str, Any]:
    """The manifest of an artifact, checked for presence and format version."""
    file = path / "manifest.json"
    if not file.is_file():
        raise ArtifactError(str(file), "missing: not an artifact directory")
    try:
        manifest = json.loads(file.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ArtifactError(str(file), f"invalid JSON: {exc}") from exc
    version = manifest.get("format_version")
    if version != FORMAT_VERSION:
        raise ArtifactError(str(file), f"format_version {version!r}, expected {FORMAT_VERSION}")
    for key in ("models", "embedder", "feature_spec", "prices", "stats"):
        if key not in manifest:
            raise ArtifactError(str(file), f"field {key!r} is missing")
    return manifest


def _load_booster(file: Path) -> Any:
    import lightgbm

    if not file.is_file():
        raise ArtifactError(str(file), "missing booster file")
    return lightgbm.Booster(model_file=str(file))


def _load_arrays(file: Path, builder: FeatureBuilder, prior: GroupPrior) -> None:
    if not file.is_file():
        raise ArtifactError(str(file), "missing")
    with np.load(file) as arrays:
        missing = [n for n in (*_FEATURE_ARRAYS, *(f"prior.{p}" for p in _PRIOR_ARRAYS))
                   if n not in arrays]  # fmt: skip
        if missing:
            raise ArtifactError(str(file), f"arrays {missing} are missing")
        for name in _FEATURE_ARRAYS:
            setattr(builder, name, arrays[name])
        for name in _PRIOR_ARRAYS:
            setattr(prior, name, arrays[f"prior.{name}"])
    builder.train_vectors_ = builder.train_vectors_.astype(np.float32)


def load_model(path: Path, manifest: dict[str, Any]) -> QualityModel:
    """Rebuild the fitted ``QualityModel`` saved by ``save_model``."""
    spec, n_models = manifest["feature_spec"], len(manifest["models"])
    features, prior = FeatureBuilder(**spec["builder"]), GroupPrior(**spec["prior"])
    _load_arrays(path / "arrays.npz", features, prior)
    quality = StackedQualityPredictor(**spec["quality"])
    quality.n_models_, quality.n_rounds_ = n_models, int(spec["quality_rounds"])
    quality.booster_ = (
        _load_booster(path / "quality" / "stacked.txt") if quality.n_rounds_ else None
    )
    length = LengthPredictor(**spec["length"])
    length.boosters_ = [_load_booster(path / "length" / f"{j}.txt") for j in range(n_models)]
    return QualityModel(prior, features, quality, length)


def load_embedder(path: Path, manifest: dict[str, Any]) -> Embedder:
    """The embedder the artifact was trained with; its id must match the manifest."""
    info = manifest["embedder"]
    if info["kind"] == "static":
        embedder: Embedder = StaticEmbedder(path / info["path"])
    elif info["kind"] == "sentence-transformers":
        embedder = SentenceTransformerEmbedder(Path(info["path"]) if info.get("path") else None)
    else:
        raise ArtifactError(str(path / "manifest.json"), f"unknown embedder kind {info['kind']!r}")
    if embedder.id != info["id"]:
        raise ArtifactError(
            str(path / "manifest.json"),
            f"embedder id {embedder.id!r} does not match the trained {info['id']!r}",
        )
    return embedder


def load_scorer(path: Path | None = None) -> Scorer:
    """Load an artifact directory (default: the shipped one) as a thread-safe ``Scorer``
    (dispatched on the manifest's ``scorer`` kind, ``predictors.registry``)."""
    from predictors.registry import load_artifact

    return load_artifact(path)
