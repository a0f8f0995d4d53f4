"""The neighbour features equal a per-k reference on the shipped artifact, bit for bit."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from predictors.artifact import load_scorer
from predictors.features import FeatureBuilder, _nanmean_rows
from predictors.prompts import embedding_text, last_user_text
from predictors.records import load_records, pivot
from predictors.structure import structure_features

DATA = Path(__file__).resolve().parents[2] / "data" / "routerbench.jsonl.gz"


def _reference(builder: FeatureBuilder, vectors, exclude_rows=None, groups=None):  # type: ignore[no-untyped-def]
    """The neighbour block as first written: one masked mean per k."""
    sims = vectors @ builder.train_vectors_.T
    if groups is not None:
        sims[np.asarray(groups)[:, None] != builder.train_groups_[None, :]] = -np.inf
    if exclude_rows is not None:
        sims[np.arange(len(vectors)), exclude_rows] = -np.inf
    k_max = min(max(builder.ks), sims.shape[1] - (exclude_rows is not None))
    top = np.argpartition(-sims, k_max - 1, axis=1)[:, :k_max]
    order = np.argsort(-np.take_along_axis(sims, top, axis=1), axis=1)
    top = np.take_along_axis(top, order, axis=1)
    top_sims = np.take_along_axis(sims, top, axis=1)
    valid = np.isfinite(top_sims) & (np.arange(k_max)[None, :] < builder._limits(groups, len(sims)))
    out = []
    for k in builder.ks:
        idx, ok = top[:, : min(k, k_max)], valid[:, : min(k, k_max)]
        scores = np.where(ok[:, :, None], builder.train_scores_[idx], np.nan)
        out.append(_nanmean_rows(scores, builder.model_means_))
        kept = np.where(ok, top_sims[:, : min(k, k_max)], 0.0)
        out.append((kept.sum(axis=1) / np.maximum(ok.sum(axis=1), 1))[:, None])
    return np.hstack(out)


@pytest.fixture(scope="module")
def shipped():  # type: ignore[no-untyped-def]
    scorer = load_scorer()
    texts = list(pivot(load_records(DATA)).prompts)[:600]
    vectors = scorer.embedder.embed([embedding_text(p) for p in texts])  # type: ignore[attr-defined, arg-type]
    structure = structure_features([last_user_text(p) for p in texts])  # type: ignore[arg-type]
    model = scorer.model  # type: ignore[attr-defined]
    groups = np.argmax(model.prior.group_proba(vectors, structure), axis=1)
    return model.features, vectors, groups


def test_new_prompts_match_reference(shipped) -> None:  # type: ignore[no-untyped-def]
    builder, vectors, groups = shipped
    np.testing.assert_array_equal(
        builder.neighbours(vectors, None, groups), _reference(builder, vectors, None, groups)
    )
    for i in range(20):  # one prompt at a time, as the server asks
        one, group = vectors[i : i + 1], groups[i : i + 1]
        np.testing.assert_array_equal(
            builder.neighbours(one, None, group), _reference(builder, one, None, group)
        )
    np.testing.assert_array_equal(builder.neighbours(vectors), _reference(builder, vectors))


def test_training_rows_match_reference(shipped) -> None:  # type: ignore[no-untyped-def]
    builder = shipped[0]
    train, n = builder.train_vectors_, len(builder.train_vectors_)
    np.testing.assert_array_equal(
        builder.neighbours(train, np.arange(n), builder.train_groups_),
        _reference(builder, train, np.arange(n), builder.train_groups_),
    )


def test_one_prompt_path_matches_reference_for_every_group(shipped) -> None:  # type: ignore[no-untyped-def]
    builder, vectors, _ = shipped
    fast = 0
    for i in range(0, len(vectors), 3):  # training prompts served as new ones: ties happen
        one = vectors[i : i + 1]
        for group in range(int(builder.train_groups_.max()) + 1):
            fast += builder._one_prompt(one, group) is not None
            labels = np.array([group])
            np.testing.assert_array_equal(
                builder.neighbours(one, None, labels), _reference(builder, one, None, labels)
            )
    assert fast > 0.8 * 3 * len(range(0, len(vectors), 3))  # the fast path is the usual one


def test_ties_fall_back_to_the_general_order() -> None:
    rng = np.random.default_rng(0)
    base = rng.normal(size=(60, 8)).astype(np.float32)
    vectors = np.vstack([base, base[:30]])  # 30 exact duplicates: tied similarities
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    scores = rng.integers(0, 2, size=(90, 3)).astype(np.float64)
    scores[rng.random(scores.shape) < 0.1] = np.nan
    groups = np.arange(90) % 2
    builder = FeatureBuilder(ks=(3, 10, 40), n_clusters=3, n_components=4)
    builder.fit(vectors, scores, groups)
    tied = 0
    for i in range(len(vectors)):
        one, labels = vectors[i : i + 1], groups[i : i + 1]
        tied += builder._one_prompt(one, int(labels[0])) is None
        np.testing.assert_array_equal(
            builder.neighbours(one, None, labels), _reference(builder, one, None, labels)
        )
    assert tied > 0
    assert builder._one_prompt(vectors[:1], 7) is None  # a group without training rows
