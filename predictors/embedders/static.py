"""The fast embedder: a model2vec static model (token lookup + mean pooling).

``distill_static(out_dir)`` distils one from the packaged MiniLM with model2vec
(``pca_dims=128``, float16; about 15 s on 2 cores, 7.5 MB). The default artifact ships
the distilled folder so serving never distils.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from predictors.embedders.base import normalise
from predictors.embedders.sentence import folder_fingerprint, minilm_path

DEFAULT_PCA_DIMS = 128


def distill_static(
    out_dir: Path, source: Path | None = None, pca_dims: int = DEFAULT_PCA_DIMS
) -> Path:
    """Distil a model2vec static model from a sentence-transformers folder."""
    # A local folder: nothing is fetched (HF_HUB_OFFLINE is set at process start).
    from model2vec.distill import distill

    model = distill(str(source or minilm_path()), pca_dims=pca_dims, device="cpu")
    out_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(str(out_dir))
    return out_dir


class StaticEmbedder:
    """Embeds with a saved model2vec ``StaticModel`` (thread-safe, no torch)."""

    def __init__(self, path: Path) -> None:
        from model2vec import StaticModel

        self.path = path
        self._model = StaticModel.from_pretrained(str(path))

    @property
    def id(self) -> str:
        """``static:<config hash>`` of the distilled folder."""
        return f"static:{folder_fingerprint(self.path)}"

    def embed(self, texts: Sequence[str]) -> NDArray[np.float32]:
        """Unit-norm vectors, one per text."""
        vectors = self._model.encode(
            list(texts), show_progress_bar=False, use_multiprocessing=False
        )
        return normalise(vectors)
