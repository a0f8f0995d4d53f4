"""The fast embedder: a model2vec static model (token lookup + mean pooling).

``distill_static(out_dir)`` distils one from the packaged MiniLM with model2vec
(``pca_dims=128``, float16; about 15 s on 2 cores, 7.5 MB). The default artifact ships
the distilled folder so serving never distils.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from predictors.blocks import SPLIT_MIN_CHARS, last_block_start
from predictors.embedders.base import normalise, row_norms
from predictors.embedders.sentence import folder_fingerprint, minilm_path
from predictors.embedders.wordpiece import AsciiWordPiece, is_bert_wordpiece
from predictors.text_memo import TextMemo

DEFAULT_PCA_DIMS = 128
#: Prompt starts remembered (each ~0.7 KB: a sum of rows).
MAX_PREFIXES = 10_000


@dataclass(frozen=True, slots=True)
class PrefixSum:
    """A text's start as ``StaticEmbedder`` pools it: its token count before truncation,
    the kept tokens' rows summed in float32 (``None`` when none is kept), and how many."""

    tokens: int
    total: NDArray[np.float32] | None
    kept: int


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
    """Embeds with a saved model2vec ``StaticModel`` (thread-safe, no torch).

    Plain-ASCII texts are tokenised by ``AsciiWordPiece`` and pooled here exactly as
    ``StaticModel.encode`` pools them (same cut, truncation, unknown-token removal,
    float16 mean and normalisation), which is ~5x faster for one prompt; other texts, and
    models this shortcut does not cover, go through ``StaticModel.encode``.

    Prompts repeat their start (a few-shot prompt's worked examples, a system prompt; see
    ``predictors.blocks``). The sum over everything before a long text's last block is
    remembered (``prefixes``), and the last block's rows are added to it: the float32
    sum runs row after row, so starting from the remembered sum gives the same bits as
    summing every row again.
    """

    def __init__(self, path: Path) -> None:
        from model2vec import StaticModel

        self.path = path
        self._model = StaticModel.from_pretrained(str(path))
        model = self._model
        plain = model.token_mapping is None and model.weights is None
        plain = plain and model.embedding.dtype != np.int8 and is_bert_wordpiece(model.tokenizer)
        self._wordpiece = AsciiWordPiece(model.tokenizer) if plain else None
        # float16 → float32 is exact, so summing rows of a float32 copy (15 MB for the
        # shipped model) gives the bits of casting the picked rows, ~4x faster.
        half = plain and model.embedding.dtype == np.float16
        self._float32 = np.asarray(model.embedding, dtype=np.float32) if half else None
        self.prefixes: TextMemo[PrefixSum | None] = TextMemo(
            self._prefix_sum, min_chars=1, max_entries=MAX_PREFIXES
        )

    @property
    def id(self) -> str:
        """``static:<config hash>`` of the distilled folder."""
        return f"static:{folder_fingerprint(self.path)}"

    def embed(self, texts: Sequence[str]) -> NDArray[np.float32]:
        """Unit-norm vectors, one per text."""
        if self._wordpiece is None or not texts:
            vectors = self._model.encode(
                list(texts), show_progress_bar=False, use_multiprocessing=False
            )
            return normalise(vectors)
        rows = [self._pooled(text) for text in texts]
        return normalise(rows[0] if len(rows) == 1 else np.vstack(rows))

    def _cut(self, text: str) -> str:
        """``text`` as ``encode`` cuts it before tokenising (characters past the limit)."""
        limit = self._model.max_length
        return text if limit is None else text[: limit * self._model.median_token_length]

    def _kept(self, ids: list[int]) -> list[int]:
        """``ids`` as ``encode`` keeps them: truncated to the limit, unknown tokens dropped."""
        limit, unknown = self._model.max_length, self._model.unk_token_id
        ids = ids if limit is None else ids[:limit]
        return ids if unknown is None or unknown not in ids else [i for i in ids if i != unknown]

    def _token_ids(self, text: str) -> list[int]:
        """``StaticModel.tokenize`` of ``text`` as ``encode`` cuts and truncates it."""
        text = self._cut(text)
        ids = self._wordpiece.ids(text) if self._wordpiece is not None else None
        if ids is None:
            return list(self._model.tokenize([text])[0])
        return self._kept(ids)

    def _row_sum(
        self, ids: list[int], start: NDArray[np.float32] | None = None
    ) -> NDArray[np.float32]:
        """The float32 rows of ``ids`` summed row after row, from ``start`` if given."""
        assert self._float32 is not None
        rows = self._float32.take(ids, axis=0)
        if start is not None:
            rows = np.concatenate([start, rows])
        return np.add.reduce(rows, axis=0, keepdims=True)

    def _prefix_sum(self, text: str) -> PrefixSum | None:
        """The sum of ``text``'s kept rows (``None`` if it is not plain ASCII)."""
        ids = self._wordpiece.ids(text) if self._wordpiece is not None else None
        if ids is None:
            return None
        kept = self._kept(ids)
        return PrefixSum(len(ids), self._row_sum(kept) if kept else None, len(kept))

    def _summed(self, text: str) -> tuple[NDArray[np.float32] | None, int] | None:
        """(sum of kept rows, how many) of a cut text from its remembered start, or
        ``None`` when that does not apply (one block, or not plain ASCII)."""
        start = last_block_start(text)
        head = self.prefixes.get(text[:start]) if start else None
        rest = self._wordpiece.ids(text[start:]) if head and self._wordpiece else None
        if head is None or rest is None:  # the whole text goes the usual way
            return None
        limit = self._model.max_length
        if limit is not None and head.tokens >= limit:
            return head.total, head.kept  # truncation keeps nothing after the start
        rest = self._kept(rest if limit is None else rest[: limit - head.tokens])
        if not rest:
            return head.total, head.kept
        return self._row_sum(rest, head.total), head.kept + len(rest)

    def _pooled(self, text: str) -> NDArray[np.floating]:
        """(1, dim) row of ``StaticModel.encode([text])``: the same numpy operations."""
        model = self._model
        out = np.zeros((1, model.dim), dtype=model.embedding.dtype)
        summed = None
        if self._float32 is not None:
            # ``ndarray.mean`` of float16 sums in float32 (row after row), divides, and
            # casts back; the same steps spelled out skip its generic reduction machinery.
            if len(text) >= SPLIT_MIN_CHARS:
                summed = self._summed(self._cut(text))
            if summed is None:
                ids = self._token_ids(text)
                summed = (self._row_sum(ids) if ids else None, len(ids))
            total, kept = summed
            if total is not None:  # none kept: the zero row
                out[:] = total / np.float32(kept)
        elif ids := self._token_ids(text):
            out[:] = model.embedding[np.array([ids], dtype=np.int64)].mean(axis=1)
        if model.normalize:
            out32 = out.astype(np.float32)
            return (out32 / (row_norms(out32) + 1e-32)).astype(out.dtype)
        return out
