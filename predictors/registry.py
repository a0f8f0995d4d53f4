"""Scorers by kind: a small registry instead of magic artifact values.

``build_scorer("prior")`` is the prompt-independent per-model prior; ``"artifact"`` loads
an artifact directory (default: the shipped one) and picks the loader by the ``scorer``
kind its manifest records (``stacked`` for every artifact written so far).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

from predictors.base import Scorer
from predictors.errors import ArtifactError

ScorerKind = Literal["artifact", "prior"]
#: Loader per manifest ``scorer`` kind: (artifact folder, manifest) → Scorer.
ArtifactLoader = Callable[[Path, dict[str, Any]], Scorer]


def _stacked(folder: Path, manifest: dict[str, Any]) -> Scorer:
    from predictors.artifact import load_embedder, load_model
    from predictors.scorer import ArtifactScorer

    return ArtifactScorer(load_embedder(folder, manifest), load_model(folder, manifest), manifest)


ARTIFACT_KINDS: dict[str, ArtifactLoader] = {"stacked": _stacked}


def load_artifact(path: Path | None = None) -> Scorer:
    """The scorer an artifact directory (default: the shipped one) describes."""
    from predictors.artifact import DEFAULT_ARTIFACT, read_manifest

    folder = DEFAULT_ARTIFACT if path is None else Path(path)
    manifest = read_manifest(folder)
    kind = str(manifest.get("scorer", "stacked"))
    loader = ARTIFACT_KINDS.get(kind)
    if loader is None:
        raise ArtifactError(
            str(folder / "manifest.json"),
            f"unknown scorer kind {kind!r}; known: {sorted(ARTIFACT_KINDS)}",
        )
    return loader(folder, manifest)


def build_scorer(kind: ScorerKind = "artifact", artifact: Path | None = None) -> Scorer:
    """The scorer of ``kind``; ``artifact`` is the directory for kind ``artifact``."""
    if kind == "prior":
        from predictors.prior import PriorScorer

        return PriorScorer()
    return load_artifact(artifact)
