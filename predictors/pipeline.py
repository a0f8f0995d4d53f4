"""The learned quality model: group prior → neighbour features → residual quality + length.

``QualityModel`` works on vectors and structure features only (never raw prompts); the
artifact's scorer puts an embedder in front of it. The path of one prompt:

1. ``GroupPrior`` recognises its group (task) and gives every model's group mean, p0;
2. ``FeatureBuilder`` computes structure, PCA, cluster and within-group neighbour
   features;
3. ``StackedQualityPredictor`` corrects p0 with one booster over (prompt, model) rows,
   gated per group: a group where the correction lost to the prior in inner CV keeps p0;
4. ``LengthPredictor`` predicts each model's completion tokens from the same features.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Self

import numpy as np
from numpy.typing import NDArray

from predictors.features import FeatureBuilder
from predictors.groups import GroupPrior
from predictors.length import LengthPredictor
from predictors.stacked import StackedQualityPredictor

FloatArray = NDArray[np.float64]


@dataclass
class QualityModel:
    """Group prior + feature builder + residual quality and length predictors."""

    prior: GroupPrior = field(default_factory=GroupPrior)
    features: FeatureBuilder = field(default_factory=FeatureBuilder)
    quality: StackedQualityPredictor = field(default_factory=StackedQualityPredictor)
    length: LengthPredictor = field(default_factory=LengthPredictor)

    def fit(
        self,
        vectors: NDArray[np.float32],
        structure: FloatArray,
        scores: FloatArray,
        completion_tokens: FloatArray,
        tasks: Sequence[str] | None = None,
    ) -> Self:
        """Fit everything on training prompts (scores and lengths n x m, NaN = missing)."""
        self.prior.fit(vectors, structure, scores, tasks)
        groups = self.prior.train_groups_
        x = self.features.fit_transform(vectors, scores, structure, groups)
        inputs = self._quality_inputs(self.prior.train_prior(), x, structure)
        self.quality.fit(inputs, scores, groups)
        self.length.fit(x, completion_tokens)
        return self

    def _quality_inputs(self, p0: FloatArray, x: FloatArray, structure: FloatArray) -> FloatArray:
        return np.concatenate([p0, self.features.neighbour_columns(x), structure], axis=1)

    def predict(
        self, vectors: NDArray[np.float32], structure: FloatArray
    ) -> tuple[FloatArray, FloatArray]:
        """(quality, completion tokens), both n x m."""
        proba = self.prior.group_proba(vectors, structure)
        p0 = proba @ self.prior.group_means_
        x = self.features.transform(vectors, structure, groups=proba.argmax(axis=1))
        gate = proba @ self.quality.gate_
        quality = self.quality.predict_proba(self._quality_inputs(p0, x, structure), gate)
        return quality, self.length.predict(x)

    def gate_report(self) -> dict[str, dict[str, object]]:
        """Per group (task): which won the inner CV at cost_weight 0, learned or prior."""
        accuracy = self.quality.gate_accuracy_
        return {
            name: {
                "winner": "learned" if self.quality.gate_[g] else "prior",
                "inner_accuracy_learned": float(accuracy[g, 0]),
                "inner_accuracy_prior": float(accuracy[g, 1]),
            }
            for g, name in enumerate(self.prior.group_names_)
        }
