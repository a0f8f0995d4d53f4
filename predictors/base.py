"""The seam between the server and anything that predicts per-model quality.

The server only ever sees a ``Scorer``: prompts in, a ``ScoreTable`` out (one row per
prompt, one column per requested model). How a scorer gets there (embedder, features,
LightGBM, calibration, a plain prior) is its own business.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal, Protocol, runtime_checkable

import numpy as np
from numpy.typing import NDArray

#: A prompt is plain text or an OpenAI ``messages`` list.
Prompt = str | Sequence[Mapping[str, Any]]

#: Where a model's quality figure came from.
QualitySource = Literal["learned", "shrunk", "metadata-prior"]


@dataclass(frozen=True, slots=True)
class ModelCard:
    """What the catalog knows about a model, enough for a metadata prior."""

    name: str
    params_b: float | None = None
    release_date: date | None = None
    tags: tuple[str, ...] = ()
    is_local: bool = False


@dataclass(frozen=True, slots=True)
class ScoreTable:
    """Predictions for ``n`` prompts and ``m`` models."""

    models: tuple[str, ...]
    #: (n, m) predicted probability that the model answers well.
    quality: NDArray[np.float64]
    #: (n, m) predicted completion tokens.
    completion_tokens: NDArray[np.float64]
    #: (m,) where each column's quality came from.
    source: tuple[QualitySource, ...]

    def row(self, index: int) -> ScoreTable:
        """The table of one prompt (row ``index``) as a one-row table."""
        return ScoreTable(
            models=self.models,
            quality=self.quality[index : index + 1],
            completion_tokens=self.completion_tokens[index : index + 1],
            source=self.source,
        )


@runtime_checkable
class Scorer(Protocol):
    """Predicts quality and output length of every model for a batch of prompts."""

    @property
    def name(self) -> str:
        """Identifier shown in ``/readyz`` and decisions (e.g. artifact version)."""
        ...

    def score(self, prompts: Sequence[Prompt], cards: Sequence[ModelCard]) -> ScoreTable:
        """Return a table whose columns follow ``cards`` order."""
        ...
