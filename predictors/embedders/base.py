"""The ``Embedder`` protocol: the seam between text and every learned predictor."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np
from numpy.typing import NDArray


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into L2-normalised float32 vectors of a fixed dimension."""

    @property
    def id(self) -> str:
        """Stable identifier; artifacts and caches are keyed by it."""
        ...

    def embed(self, texts: Sequence[str]) -> NDArray[np.float32]:
        """(len(texts), dim) array; rows have unit norm."""
        ...


def row_norms(array: NDArray[np.floating]) -> NDArray[np.floating]:
    """(n, 1) L2 norms of the rows: ``np.linalg.norm(array, axis=1, keepdims=True)``
    (the same reduction) without its argument handling."""
    return np.sqrt(np.add.reduce(array * array, axis=1, keepdims=True))


def normalise(vectors: NDArray[np.floating]) -> NDArray[np.float32]:
    """Rows scaled to unit L2 norm (zero rows stay zero)."""
    array = np.asarray(vectors, dtype=np.float32)
    return array / np.maximum(row_norms(array), 1e-12)
