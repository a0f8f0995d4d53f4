"""``ArtifactScorer``: embedder + trained ``QualityModel`` behind the ``Scorer`` seam.

Columns for catalog models the artifact was trained on are ``"learned"``; a trained
model with fewer than ``min_records`` records is blended toward its metadata prior
(``"shrunk"``); a catalog model the artifact never saw gets the metadata prior and the
median predicted length (``"metadata-prior"``, length source ``median-of-known``). Each
column's length source is the artifact's (``predictors.length``). All state is read-only
after loading, so concurrent ``score`` calls from a thread pool are safe.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from predictors.base import ModelCard, Prompt, QualitySource, ScoreTable
from predictors.embedders import Embedder
from predictors.features import structure_features
from predictors.metadata import DEFAULT_MIN_RECORDS, DEFAULT_SHRINK_STRENGTH, metadata_prior, shrink
from predictors.pipeline import QualityModel
from predictors.prompts import embedding_text, last_user_text


def configure_threads(n: int = 1) -> None:
    """Pin BLAS/OpenMP (and torch, if loaded) to ``n`` threads; call once at server start.

    On two cores, numpy's BLAS pool and torch's intra-op pool otherwise oversubscribe
    the CPU and a single decision gets slower (39 ms → 86 ms median measured for kNN).
    """
    from threadpoolctl import threadpool_limits

    threadpool_limits(n)
    import sys

    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(n)


@dataclass(frozen=True, slots=True)
class _ColumnPlan:
    """Per output column: its name, sources, and where its figures come from."""

    names: tuple[str, ...]
    sources: tuple[QualitySource, ...]
    lengths: tuple[str, ...]
    #: Columns of trained models and their columns in the artifact's predictions.
    known_columns: list[int]
    known_sources: list[int]
    #: (column, artifact column, records, prior) of the columns blended toward the prior.
    shrunk: list[tuple[int, int, float, float]]
    #: (column, prior) of the models the artifact never saw.
    prior_columns: list[tuple[int, float]]
    #: Whether the columns are exactly the artifact's models in the artifact's order.
    identity: bool


class ArtifactScorer:
    """The trained router's scorer (see the module docstring)."""

    def __init__(
        self,
        embedder: Embedder,
        model: QualityModel,
        manifest: dict[str, Any],
        min_records: int = DEFAULT_MIN_RECORDS,
        shrink_strength: float = DEFAULT_SHRINK_STRENGTH,
    ) -> None:
        self.embedder = embedder
        self.model = model
        self.manifest = manifest
        self.models: tuple[str, ...] = tuple(manifest["models"])
        self.min_records = min_records
        self.shrink_strength = shrink_strength
        self._column = {name: j for j, name in enumerate(self.models)}
        means = [s["mean_score"] for s in manifest["stats"].values()]
        self._population_mean = float(np.mean(means)) if means else 0.5
        self._priors: dict[ModelCard, float] = {}
        self._plan_cache: tuple[Sequence[ModelCard], _ColumnPlan] | None = None

    @property
    def name(self) -> str:
        """``artifact:<version>`` as written in the manifest."""
        return f"artifact:{self.manifest.get('version', 'unversioned')}"

    def predict_known(self, prompts: Sequence[Prompt]) -> tuple[np.ndarray, np.ndarray]:
        """(quality, completion tokens) for every trained model, n x len(self.models)."""
        vectors = self.embedder.embed([embedding_text(p) for p in prompts])
        structure = structure_features([last_user_text(p) for p in prompts])
        return self.model.predict(vectors, structure)

    def _prior(self, card: ModelCard) -> float:
        """The metadata prior of ``card`` (fixed per card, so computed once)."""
        prior = self._priors.get(card)
        if prior is None:
            prior = self._priors[card] = metadata_prior(card, self._population_mean)
        return prior

    def _source(self, card: ModelCard) -> QualitySource:
        if card.name not in self._column:
            return "metadata-prior"
        n_records = self.manifest["stats"][card.name]["n_records"]
        return "learned" if n_records >= self.min_records else "shrunk"

    def score(self, prompts: Sequence[Prompt], cards: Sequence[ModelCard]) -> ScoreTable:
        """Quality and length per prompt, columns in ``cards`` order."""
        quality, tokens = self.predict_known(prompts)
        plan = self._plan(cards)
        n = len(prompts)
        if plan.identity:  # the artifact's own models in its order: its fresh arrays
            out_q, out_t = quality, tokens
        else:
            out_q, out_t = np.empty((n, len(cards))), np.empty((n, len(cards)))
            out_q[:, plan.known_columns] = quality[:, plan.known_sources]
            out_t[:, plan.known_columns] = tokens[:, plan.known_sources]
        for col, j, n_rec, prior in plan.shrunk:
            out_q[:, col] = shrink(quality[:, j], n_rec, prior, self.shrink_strength)
        if plan.prior_columns:
            median = np.median(tokens, axis=1)
            for col, prior in plan.prior_columns:
                out_q[:, col], out_t[:, col] = prior, median
        return ScoreTable(plan.names, out_q, out_t, plan.sources, plan.lengths)

    def _plan(self, cards: Sequence[ModelCard]) -> _ColumnPlan:
        """Where each column of ``cards`` comes from; fixed per card list, so built once
        for the engine's (unchanging) tuple of cards."""
        cached = self._plan_cache
        if cached is not None and cached[0] is cards:
            return cached[1]
        sources = tuple(self._source(card) for card in cards)
        known = [
            (col, self._column[c.name]) for col, c in enumerate(cards) if c.name in self._column
        ]
        stats = self.manifest["stats"]
        columns = list(range(len(self.models)))
        plan = _ColumnPlan(
            names=tuple(c.name for c in cards),
            sources=sources,
            lengths=tuple(self._length_source(card) for card in cards),
            known_columns=[col for col, _ in known],
            known_sources=[j for _, j in known],
            shrunk=[
                (col, self._column[c.name], stats[c.name]["n_records"], self._prior(c))
                for col, (c, source) in enumerate(zip(cards, sources, strict=True))
                if source == "shrunk"
            ],
            prior_columns=[
                (col, self._prior(c))
                for col, (c, source) in enumerate(zip(cards, sources, strict=True))
                if source == "metadata-prior"
            ],
            identity=len(cards) == len(columns)
            and [col for col, _ in known] == [j for _, j in known] == columns,
        )
        self._plan_cache = (cards, plan)
        return plan

    def _length_source(self, card: ModelCard) -> str:
        if card.name not in self._column:
            return "median-of-known"
        return str(self.manifest.get("length_source", {}).get(card.name, "learned"))
