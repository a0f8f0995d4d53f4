"""Versioned artifact directories: save a trained router, load it back as a ``Scorer``.

Layout of an artifact directory::

    manifest.json     format version, embedder id, model list, feature spec, hyper-
                      parameters, prices, per-model record stats, CV metrics, data hash
    arrays.npz        feature-builder state (training vectors/scores/groups, PCA,
                      centroids, cluster means) and the group prior (input scaling,
                      classifier weights, per-group model means), prefixed ``prior.``
    quality/stacked.txt  the residual LightGBM quality booster (absent if 0 rounds)
    length/<j>.txt    LightGBM length booster of model j (only where its length is
                      learned; ``feature_spec.length_source`` and
                      ``length_constant_tokens`` hold the prior of the others)
    embedder/         the model2vec static embedder (when the artifact uses one)

``save_model`` writes into a temporary folder and renames it into place (a failed
training leaves no half-written folder); the manifest's ``version`` is a hash of its
content (``content_version``). ``load_scorer(None)`` loads the default artifact shipped
in ``predictors/default_artifact``.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
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
#: Manifest fields left out of the content version (they differ between equal models).
_VOLATILE = ("version", "created", "train_seconds")


def _arrays(model: QualityModel) -> dict[str, np.ndarray]:
    arrays = {name: getattr(model.features, name) for name in _FEATURE_ARRAYS}
    arrays["train_vectors_"] = arrays["train_vectors_"].astype(np.float16)
    arrays |= {f"prior.{name}": getattr(model.prior, name) for name in _PRIOR_ARRAYS}
    return arrays


def _boosters(model: QualityModel) -> dict[str, Any]:
    """Relative path → booster, for every booster the model holds."""
    found = {f"length/{j}.txt": b for j, b in enumerate(model.length.boosters_) if b is not None}
    if model.quality.booster_ is not None:
        found["quality/stacked.txt"] = model.quality.booster_
    return found


def content_version(manifest: dict[str, Any], arrays: dict[str, np.ndarray],
                    boosters: dict[str, Any]) -> str:  # fmt: skip
    """sha256 (first 16 hex digits) of the manifest (without ``version``, ``created`` and
    ``train_seconds``), every array and every booster: two artifacts share a version
    only if they predict the same."""
    digest = hashlib.sha256()
    stable = {k: v for k, v in manifest.items() if k not in _VOLATILE}
    digest.update(json.dumps(stable, sort_keys=True, default=str).encode())
    for name in sorted(arrays):
        array = np.ascontiguousarray(arrays[name])
        digest.update(f"{name}:{array.dtype}:{array.shape}".encode())
        digest.update(array.tobytes())
    for name in sorted(boosters):
        digest.update(name.encode() + boosters[name].model_to_string().encode())
    return digest.hexdigest()[:16]


def save_model(
    model: QualityModel, out_dir: Path, manifest: dict[str, Any], embedder: Path | None = None
) -> dict[str, Any]:
    """Write the fitted model (arrays, boosters, ``manifest.json``, a copy of the
    ``embedder`` folder) to a temporary folder next to ``out_dir``, then swap it in: a
    failure leaves ``out_dir`` as it was. Returns the manifest written, whose
    ``version`` is the ``content_version``."""
    arrays, boosters = _arrays(model), _boosters(model)
    body = {"format_version": FORMAT_VERSION, "scorer": "stacked", **manifest}
    body["version"] = content_version(body, arrays, boosters)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    staging.chmod(0o755)  # mkdtemp's 0700 would make the artifact private to its trainer
    try:
        np.savez_compressed(staging / "arrays.npz", **arrays)  # type: ignore[arg-type]
        for kind in ("quality", "length"):
            (staging / kind).mkdir()
        for name, booster in boosters.items():
            booster.save_model(str(staging / name))
        if embedder is not None:
            shutil.copytree(embedder, staging / "embedder")
        text = json.dumps(body, indent=1, allow_nan=False) + "\n"
        (staging / "manifest.json").write_text(text, encoding="utf-8")
        _swap_in(staging, out_dir)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return body


def _swap_in(staging: Path, out_dir: Path) -> None:
    """Replace ``out_dir`` by ``staging`` with two renames (the old one removed after)."""
    if not out_dir.exists():
        staging.rename(out_dir)
        return
    retired = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.old.", dir=out_dir.parent))
    retired.rmdir()
    out_dir.rename(retired)
    try:
        staging.rename(out_dir)
    except OSError:
        retired.rename(out_dir)
        raise
    shutil.rmtree(retired, ignore_errors=True)


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
    n_groups = len(prior.group_means_)
    quality.gate_ = np.array(spec.get("quality_gate", [1.0] * n_groups), dtype=np.float64)
    prior.group_names_ = manifest.get("groups") or [f"group-{g}" for g in range(n_groups)]
    return QualityModel(prior, features, quality, _load_length(path, spec, n_models))


def _load_length(path: Path, spec: dict[str, Any], n_models: int) -> LengthPredictor:
    length = LengthPredictor(**spec["length"])
    sources = spec.get("length_source") or ["learned"] * n_models
    constants = spec.get("length_constant_tokens") or [float("nan")] * n_models
    length.length_source_ = tuple(sources)
    length.constant_tokens_ = np.array(constants, dtype=np.float64)
    length.boosters_ = [
        _load_booster(path / "length" / f"{j}.txt") if source == "learned" else None
        for j, source in enumerate(sources)
    ]
    return length


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
