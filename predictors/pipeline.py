"""The learned quality model: features → calibrated LightGBM quality + length predictors.

``QualityModel`` works on vectors and structure features only (never raw prompts); the
artifact's scorer puts an embedder in front of it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Self

import numpy as np
from numpy.typing import NDArray

from predictors.features import FeatureBuilder
from predictors.quality import LengthPredictor, LightGBMQualityPredictor

FloatArray = NDArray[np.float64]


@dataclass
class QualityModel:
    """Feature builder + per-model quality and length predictors."""

    features: FeatureBuilder = field(default_factory=FeatureBuilder)
    quality: LightGBMQualityPredictor = field(default_factory=LightGBMQualityPredictor)
    length: LengthPredictor = field(default_factory=LengthPredictor)

    def fit(
        self,
        vectors: NDArray[np.float32],
        structure: FloatArray,
        scores: FloatArray,
        completion_tokens: FloatArray,
    ) -> Self:
        """Fit everything on training prompts (scores and lengths n x m, NaN = missing)."""
        x = self.features.fit_transform(vectors, scores, structure)
        self.quality.fit(x, scores)
        self.length.fit(x, completion_tokens)
        return self

    def predict(
        self, vectors: NDArray[np.float32], structure: FloatArray
    ) -> tuple[FloatArray, FloatArray]:
        """(quality, completion tokens), both n x m."""
        x = self.features.transform(vectors, structure)
        return self.quality.predict_proba(x), self.length.predict(x)
