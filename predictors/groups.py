"""``GroupPrior``: recognise a prompt's group (its task) and give each model's mean score there.

Groups are the training records' task labels when every training prompt has one (and
there are at least two), otherwise k-means clusters of the embeddings. A multinomial
logistic regression on standardised [structure features, embedding] learns to recognise
the group of a new prompt; its prior for model j is ``P(group | prompt) @ group_means[:, j]``,
where a group mean is smoothed toward the model's overall mean by ``smoothing``
pseudo-records.

Training prompts get the mean of their *own* group, identical for every member. A
leave-one-out mean would leak the label (within a group it is a decreasing function of
the row's own score) and the residual booster on top would learn that leak.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Self

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]


def group_labels(
    tasks: Sequence[str] | None, vectors: NDArray[np.floating], n_clusters: int, seed: int
) -> tuple[IntArray, list[str]]:
    """Task labels as integers and the task names, or k-means clusters (``cluster-<k>``)
    when some task label is missing."""
    if tasks is not None and all(tasks) and len(set(tasks)) > 1:
        names = sorted(set(tasks))
        return np.array([names.index(t) for t in tasks], dtype=np.intp), names
    from sklearn.cluster import KMeans

    k = min(n_clusters, len(vectors))
    kmeans = KMeans(k, n_init=4, random_state=seed).fit(np.asarray(vectors, dtype=np.float32))
    labels = np.asarray(kmeans.labels_, dtype=np.intp)
    return labels, [f"cluster-{g}" for g in range(int(labels.max()) + 1)]


def _softmax(z: FloatArray) -> FloatArray:
    z = z - np.maximum.reduce(z, axis=1, keepdims=True)  # .max without its wrapper
    e = np.exp(z)
    return np.asarray(e / np.add.reduce(e, axis=1, keepdims=True), dtype=np.float64)


class GroupPrior:
    """Group classifier + smoothed per-group mean score of every model."""

    def __init__(
        self, smoothing: float = 2.0, n_clusters: int = 8, c: float = 1.0, random_state: int = 0
    ) -> None:
        self.smoothing = smoothing
        self.n_clusters = n_clusters
        self.c = c
        self.random_state = random_state

    def _inputs(self, vectors: NDArray[np.floating], structure: FloatArray) -> FloatArray:
        return np.concatenate([structure, np.asarray(vectors, dtype=np.float64)], axis=1)

    def fit(
        self,
        vectors: NDArray[np.floating],
        structure: FloatArray,
        scores: FloatArray,
        tasks: Sequence[str] | None = None,
    ) -> Self:
        """Learn groups, the classifier and the group means (scores n x m, NaN = missing)."""
        from sklearn.linear_model import LogisticRegression

        labels, self.group_names_ = group_labels(tasks, vectors, self.n_clusters, self.random_state)
        inputs = self._inputs(vectors, structure)
        self.input_mean_ = inputs.mean(axis=0)
        self.input_scale_ = np.where(inputs.std(axis=0) > 0, inputs.std(axis=0), 1.0)
        n_groups = int(labels.max()) + 1
        if n_groups > 1:
            clf = LogisticRegression(C=self.c, max_iter=2000, random_state=self.random_state)
            clf.fit((inputs - self.input_mean_) / self.input_scale_, labels)
            coef, intercept = clf.coef_, clf.intercept_
            if n_groups == 2:  # sklearn's binary form: one row for class 1
                coef, intercept = (
                    np.vstack([-coef / 2, coef / 2]),
                    np.r_[-intercept / 2, intercept / 2],
                )
        else:
            coef, intercept = np.zeros((1, inputs.shape[1])), np.zeros(1)
        self.coef_, self.intercept_ = np.asarray(coef), np.asarray(intercept)
        self.group_means_ = self._group_means(
            np.asarray(scores, dtype=np.float64), labels, n_groups
        )
        self.train_groups_ = labels
        return self

    def _group_means(self, scores: FloatArray, labels: IntArray, n_groups: int) -> FloatArray:
        overall = np.nanmean(scores, axis=0)
        means = []
        for g in range(n_groups):
            rows = scores[labels == g]
            total, count = np.nansum(rows, axis=0), np.sum(~np.isnan(rows), axis=0)
            means.append((total + self.smoothing * overall) / (count + self.smoothing))
        return np.vstack(means)

    def group_proba(self, vectors: NDArray[np.floating], structure: FloatArray) -> FloatArray:
        """(n, n_groups) probability of each group."""
        scaled = (self._inputs(vectors, structure) - self.input_mean_) / self.input_scale_
        return _softmax(scaled @ self.coef_.T + self.intercept_)

    def predict(self, vectors: NDArray[np.floating], structure: FloatArray) -> FloatArray:
        """(n, m) prior quality of every model for new prompts."""
        return self.group_proba(vectors, structure) @ self.group_means_

    def train_prior(self) -> FloatArray:
        """(n_train, m) prior of the training prompts: their own group's mean."""
        return np.asarray(self.group_means_[self.train_groups_], dtype=np.float64)
