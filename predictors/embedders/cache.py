"""On-disk embedding cache keyed by (embedder id, sha256 of the text).

One ``.npz`` file per embedder id under the cache folder holds every vector computed so
far; misses are embedded in one batch and the file is rewritten atomically.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from predictors.embedders.base import Embedder


def text_key(text: str) -> str:
    """The cache key of one text."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class CachedEmbedder:
    """An ``Embedder`` that remembers vectors on disk."""

    def __init__(self, inner: Embedder, cache_dir: Path) -> None:
        self.inner = inner
        self.cache_dir = cache_dir
        self._vectors: dict[str, NDArray[np.float32]] | None = None
        self._lock = threading.Lock()

    @property
    def id(self) -> str:
        """Same id as the wrapped embedder (the cache does not change the vectors)."""
        return self.inner.id

    @property
    def file(self) -> Path:
        """The cache file of the wrapped embedder."""
        name = hashlib.sha256(self.inner.id.encode()).hexdigest()[:16]
        return self.cache_dir / f"{name}.npz"

    def _load(self) -> dict[str, NDArray[np.float32]]:
        if self._vectors is None:
            self._vectors = {}
            if self.file.is_file():
                with np.load(self.file) as stored:
                    self._vectors = dict(zip(stored["keys"], stored["vectors"], strict=True))
        return self._vectors

    def _save(self, vectors: dict[str, NDArray[np.float32]]) -> None:
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        tmp = self.file.with_suffix(f".{os.getpid()}.tmp.npz")
        np.savez(tmp, keys=np.array(list(vectors)), vectors=np.stack(list(vectors.values())))
        tmp.replace(self.file)

    def embed(self, texts: Sequence[str]) -> NDArray[np.float32]:
        """Cached vectors; misses are embedded together and persisted."""
        keys = [text_key(text) for text in texts]
        with self._lock:
            vectors = self._load()
            missing = list(dict.fromkeys(k for k in keys if k not in vectors))
            if missing:
                index = {k: i for i, k in enumerate(keys)}
                fresh = self.inner.embed([texts[index[k]] for k in missing])
                vectors.update(zip(missing, fresh, strict=True))
                self._save(vectors)
            return np.stack([vectors[k] for k in keys]).astype(np.float32)
