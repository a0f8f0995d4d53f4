"""One prompt at a time (the server: native single-row LightGBM calls) scores as a large
batch (LightGBM's batch prediction, as in training and evaluation) on the shipped
artifact, to the last bits BLAS may round differently for a 1-row and a 150-row product."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from predictors.artifact import load_scorer
from predictors.base import ModelCard
from predictors.records import load_records, pivot

DATA = Path(__file__).resolve().parents[2] / "data" / "routerbench.jsonl.gz"


def test_single_prompts_score_like_a_batch() -> None:
    scorer = load_scorer()
    sample = list(pivot(load_records(DATA)).prompts)[::10][:150]
    cards = tuple(ModelCard(name=name) for name in scorer.models)  # type: ignore[attr-defined]
    batch = scorer.score(sample, cards)  # type: ignore[arg-type]
    for i, prompt in enumerate(sample):
        one = scorer.score([prompt], cards)  # type: ignore[list-item]
        np.testing.assert_allclose(one.quality[0], batch.quality[i], rtol=1e-13, atol=0)
        np.testing.assert_allclose(
            one.completion_tokens[0], batch.completion_tokens[i], rtol=1e-13, atol=0
        )
    assert batch.source == one.source


def test_the_artifacts_own_models_plus_an_unknown_one_keep_every_column() -> None:
    scorer = load_scorer()
    own = tuple(ModelCard(name=name) for name in scorer.models)  # type: ignore[attr-defined]
    extended = (*own, ModelCard(name="never-seen", params_b=70))
    prompts = ["Name three prime numbers.", "Sort a list in Python."]
    base = scorer.score(prompts, own)  # type: ignore[arg-type]
    table = scorer.score(prompts, extended)  # type: ignore[arg-type]
    assert table.quality.shape == table.completion_tokens.shape == (2, len(own) + 1)
    np.testing.assert_array_equal(table.quality[:, :-1], base.quality)
    np.testing.assert_array_equal(
        table.completion_tokens[:, -1], np.median(base.completion_tokens, axis=1)
    )
    assert table.source[-1] == "metadata-prior"
