"""Feature builders: what LightGBM sees instead of raw embeddings.

For one prompt the feature row is the concatenation of

* **structure** (``predictors.structure``, 12 columns): log length in characters, words
  and lines, digit / upper-case / non-ASCII / punctuation fractions, code markers, math
  markers, number of multiple-choice options, question mark, blank-line-separated
  blocks (few-shot examples);
* **reduced embedding**: the first ``n_components`` principal components;
* **cluster**: the per-model mean score of the prompt's k-means cluster;
* **neighbour statistics**: for every k in ``ks``, each model's mean score among the k
  most similar training prompts (cosine), plus the mean similarity of those k. With
  group labels (``predictors.groups``: the task, recognised for new prompts) only
  training prompts of the same group count as neighbours, and at most half of them (less
  one): a neighbourhood as large as the group would leak a training row's label.

Training rows see their neighbours *without themselves* (leave-one-out), so the
statistics are honest out-of-sample estimates like the ones a new prompt gets.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple, Self

import numpy as np
from numpy.typing import NDArray

from predictors.row_window import RowWindow
from predictors.structure import STRUCTURE_NAMES, structure_features

__all__ = ["STRUCTURE_NAMES", "FeatureBuilder", "structure_features"]

FloatArray = NDArray[np.float64]


def _nanmean_rows(values: FloatArray, fallback: FloatArray) -> FloatArray:
    counts = np.sum(~np.isnan(values), axis=-2)
    sums = np.nansum(values, axis=-2)
    return np.where(counts > 0, sums / np.maximum(counts, 1), fallback)


class GroupRows(NamedTuple):
    """A group's training rows, its neighbour limit (``FeatureBuilder._limits``), one row
    per training row of its scores (NaN as 0) then its 0/1 presence marks, and the window
    of training vectors its similarities come from (``None``: the full product)."""

    rows: NDArray[np.intp]
    limit: int
    stats: FloatArray
    window: RowWindow | None

    def similarities(
        self, vector: NDArray[np.float32], matrix: NDArray[np.float32]
    ) -> NDArray[np.float32]:
        """The group's entries of ``vector @ matrix.T``: from its window when it has one
        (the same bits; ``predictors.row_window``)."""
        if self.window is None:
            return (vector @ matrix.T)[0][self.rows]
        return self.window.similarities(vector, matrix)


class FeatureBuilder:
    """Fits PCA, k-means and a neighbour index on training embeddings and scores."""

    def __init__(
        self,
        ks: Sequence[int] = (10, 30, 100),
        n_clusters: int = 12,
        n_components: int = 16,
        random_state: int = 0,
    ) -> None:
        self.ks = tuple(ks)
        self.n_clusters = n_clusters
        self.n_components = n_components
        self.random_state = random_state

    def fit(
        self,
        embeddings: NDArray[np.floating],
        scores: FloatArray,
        groups: NDArray[np.intp] | None = None,
    ) -> Self:
        """Remember training vectors, scores (n-by-m, NaN = no record) and group labels."""
        from sklearn.cluster import KMeans

        vectors = np.asarray(embeddings, dtype=np.float32)
        self.train_groups_ = (
            np.zeros(len(vectors), dtype=np.intp) if groups is None else np.asarray(groups)
        )
        self.train_vectors_ = vectors
        self.train_scores_ = np.asarray(scores, dtype=np.float64)
        self.model_means_ = np.nanmean(self.train_scores_, axis=0)
        self.mean_vector_ = vectors.mean(axis=0)
        _, _, vt = np.linalg.svd(vectors - self.mean_vector_, full_matrices=False)
        self.components_ = vt[: self.n_components].astype(np.float32)
        n_clusters = min(self.n_clusters, len(vectors))
        kmeans = KMeans(n_clusters, n_init=4, random_state=self.random_state).fit(vectors)
        self.centroids_ = kmeans.cluster_centers_.astype(np.float32)
        labels = kmeans.labels_
        self.cluster_means_ = np.stack(
            [_nanmean_rows(self.train_scores_[labels == c], self.model_means_)
             for c in range(n_clusters)]
        )  # fmt: skip
        return self

    def transform(
        self,
        embeddings: NDArray[np.floating],
        structure: FloatArray,
        exclude_rows: NDArray[np.intp] | None = None,
        groups: NDArray[np.intp] | None = None,
    ) -> FloatArray:
        """Feature matrix; ``exclude_rows[i]`` is a training row prompt i must not see,
        ``groups[i]`` the group whose training prompts are its neighbours."""
        vectors = np.asarray(embeddings, dtype=np.float32)
        reduced = (vectors - self.mean_vector_) @ self.components_.T
        cluster = (vectors @ self.centroids_.T).argmax(axis=1)
        blocks = [
            structure,
            reduced,
            self.cluster_means_[cluster],
            self.neighbours(vectors, exclude_rows, groups),
        ]
        return np.asarray(np.concatenate(blocks, axis=1), dtype=np.float64)  # float64: no copy

    def neighbour_columns(self, features: FloatArray) -> FloatArray:
        """The neighbour block of a ``transform`` output: K x (m rates, mean similarity)."""
        return features[:, len(STRUCTURE_NAMES) + len(self.components_) + len(self.model_means_) :]

    def neighbours(
        self,
        vectors: NDArray[np.float32],
        exclude_rows: NDArray[np.intp] | None = None,
        groups: NDArray[np.intp] | None = None,
    ) -> FloatArray:
        """Per k: each model's mean score among the k nearest training prompts, and mean sim."""
        if len(vectors) == 1 and exclude_rows is None and groups is not None:
            one = self._one_prompt(vectors, int(np.asarray(groups)[0]))
            if one is not None:
                return one
        sims = vectors @ self.train_vectors_.T
        if groups is not None:
            sims[np.asarray(groups)[:, None] != self.train_groups_[None, :]] = -np.inf
        if exclude_rows is not None:
            sims[np.arange(len(vectors)), exclude_rows] = -np.inf
        k_max = min(max(self.ks), sims.shape[1] - (exclude_rows is not None))
        rows = np.arange(len(sims))[:, None]
        top = np.argpartition(-sims, k_max - 1, axis=1)[:, :k_max]
        near = sims[rows, top]
        order = np.argsort(-near, axis=1)
        top, top_sims = top[rows, order], near[rows, order]
        valid = np.isfinite(top_sims) & (
            np.arange(k_max)[None, :] < self._limits(groups, len(sims))
        )
        # Every k's neighbours are a prefix of the same ranking, so one running sum along
        # it serves all ks (a sequential sum: the same additions as a sum per prefix).
        values = self.train_scores_[top]
        present = valid[:, :, None] & ~np.isnan(values)
        lasts = [min(k, k_max) - 1 for k in self.ks]
        sums = np.cumsum(np.where(present, values, 0.0), axis=1)[:, lasts]
        counts = np.cumsum(present, axis=1)[:, lasts]
        rates = np.where(counts > 0, sums / np.maximum(counts, 1), self.model_means_)
        kept = np.where(valid, top_sims, 0.0)
        mean_sims = [
            kept[:, : last + 1].sum(axis=1) / np.maximum(valid[:, : last + 1].sum(axis=1), 1)
            for last in lasts
        ]  # a pairwise sum per prefix, as before: a running sum would round differently
        blocks = np.concatenate([rates, np.stack(mean_sims, axis=1)[:, :, None]], axis=2)
        return blocks.reshape(len(vectors), -1)

    def _one_prompt(self, vector: NDArray[np.float32], group: int) -> FloatArray | None:
        """``neighbours`` of one new prompt of ``group`` without the 2-d machinery: only
        the group's rows are ranked, and only as far as its limit. Same bits as the
        general path; ``None`` (use that path) when tied similarities make the general
        path's order depend on its sort, or for a group without training rows."""
        found = self._group_rows().get(group)
        if found is None:
            return None
        limit, stats = found.limit, found.stats
        sims = found.similarities(vector, self.train_vectors_)
        k_max, m = min(max(self.ks), len(self.train_vectors_)), len(self.model_means_)
        need = min(k_max, limit, len(sims))  # ranks past the limit never count
        top = (-sims).argpartition(need)[: need + 1] if need < len(sims) else np.arange(need)
        top = top[(-sims[top]).argsort()]
        top_sims = sims[top]
        if np.count_nonzero(top_sims[1:] < top_sims[:-1]) < len(top_sims) - 1:
            return None  # a tie (or NaN): the general path's order is its sort's
        # Row after row, as the general path's running sum (a reduction over the first
        # axis adds the rows in order: the same additions as the cumsum).
        ranked = stats.take(top[:need], axis=0)
        totals = np.empty((len(self.ks), 2 * m))
        for block, k in enumerate(self.ks):
            np.add.reduce(ranked[: min(k, k_max, need)], axis=0, out=totals[block])
        sums, counts = totals[:, :m], totals[:, m:]
        out = np.empty((len(self.ks), m + 1))
        out[:, :m] = np.where(counts > 0, sums / np.maximum(counts, 1), self.model_means_)
        # The general path sums each prefix of k_max similarities pairwise, zeros past
        # the limit included: the same zeros keep the same pairing and rounding.
        kept = np.zeros(k_max, dtype=top_sims.dtype)
        kept[:need] = top_sims[:need]
        for block, k in enumerate(self.ks):
            total = float(np.add.reduce(kept[: min(k, k_max)]))
            out[block, m] = total / max(min(k, k_max, need), 1)
        return out.reshape(1, -1)

    def _group_rows(self) -> dict[int, GroupRows]:
        """Per group, its ``GroupRows``; built once per set of training vectors, labels
        and scores."""
        cached = getattr(self, "_group_cache", None)
        key = (self.train_groups_, self.train_scores_, self.train_vectors_)
        if cached is None or any(a is not b for a, b in zip(cached[0], key, strict=True)):
            labels = np.asarray(self.train_groups_)
            groups = np.unique(labels).tolist()
            limits = self._limits(np.array(groups, dtype=np.intp), len(groups))[:, 0].tolist()
            present = ~np.isnan(self.train_scores_)
            stats = np.hstack([np.where(present, self.train_scores_, 0.0), present])
            table = {
                g: GroupRows(
                    rows,
                    limit,
                    np.ascontiguousarray(stats[rows], dtype=np.float64),
                    RowWindow.build(self.train_vectors_, rows),
                )
                for g, limit in zip(groups, limits, strict=True)
                for rows in [np.flatnonzero(labels == g)]
            }
            cached = self._group_cache = (key, table)
        return cached[1]

    def _limits(self, groups: NDArray[np.intp] | None, n: int) -> NDArray[np.intp]:
        """(n, 1) most neighbours a prompt may use: half its training group, less one.

        A neighbourhood covering (nearly) the whole group would be the group's
        leave-one-out mean for a training row, which leaks its label next to the group
        prior (see ``predictors.groups``)."""
        labels = np.zeros(n, dtype=np.intp) if groups is None else np.asarray(groups)
        sizes = np.bincount(self.train_groups_, minlength=int(labels.max(initial=0)) + 1)
        return np.maximum((sizes[labels] - 1) // 4, 1)[:, None]

    def fit_transform(
        self,
        embeddings: NDArray[np.floating],
        scores: FloatArray,
        structure: FloatArray,
        groups: NDArray[np.intp] | None = None,
    ) -> FloatArray:
        """Fit, then transform the training rows leave-one-out (within their groups)."""
        self.fit(embeddings, scores, groups)
        return self.transform(embeddings, structure, np.arange(len(embeddings)), groups)
