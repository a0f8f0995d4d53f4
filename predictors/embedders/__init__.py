"""Embedders: text in, one L2-normalised float32 vector per text out.

* ``SentenceTransformerEmbedder`` — the reference: any local sentence-transformers model,
  by default the packaged all-MiniLM-L6-v2 (torch, ~40 ms per prompt on 2 cores).
* ``StaticEmbedder`` — the fast one: a model2vec static model distilled from the same
  MiniLM (token-embedding lookup + mean pooling, well under a millisecond per prompt).
* ``CachedEmbedder`` — wraps either with an on-disk cache keyed by (embedder id, text hash).

``make_embedder(spec)`` builds one from a spec string (``"minilm"``, ``"static:PATH"``,
``"st:PATH"``).
"""

from __future__ import annotations

from pathlib import Path

from predictors.embedders.base import Embedder
from predictors.embedders.cache import CachedEmbedder
from predictors.embedders.sentence import SentenceTransformerEmbedder, minilm_path
from predictors.embedders.static import StaticEmbedder, distill_static

__all__ = [
    "CachedEmbedder",
    "Embedder",
    "SentenceTransformerEmbedder",
    "StaticEmbedder",
    "distill_static",
    "make_embedder",
    "minilm_path",
]


def make_embedder(spec: str) -> Embedder:
    """``"minilm"`` | ``"st:PATH"`` (sentence-transformers) | ``"static:PATH"`` (model2vec)."""
    kind, _, path = spec.partition(":")
    if kind == "minilm":
        return SentenceTransformerEmbedder()
    if kind == "st" and path:
        return SentenceTransformerEmbedder(Path(path))
    if kind == "static" and path:
        return StaticEmbedder(Path(path))
    raise ValueError(f"unknown embedder spec {spec!r}: use minilm, st:PATH or static:PATH")
