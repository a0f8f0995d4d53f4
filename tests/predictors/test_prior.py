"""PriorScorer: learned means, shrinkage for few records, metadata prior for unknowns."""

from datetime import date

import numpy as np

from predictors.base import ModelCard, Scorer
from predictors.prior import PriorScorer, build_prior_stats, load_prior_stats, save_prior_stats


def test_shipped_prior_covers_routerbench_models() -> None:
    scorer = PriorScorer()
    assert isinstance(scorer, Scorer)
    cards = [ModelCard("gpt-4-1106-preview"), ModelCard("mistralai/mistral-7b-chat")]
    table = scorer.score(["hello", "world"], cards)
    assert table.quality.shape == (2, 2)
    assert table.source == ("learned", "learned")
    assert table.quality[0, 0] > table.quality[0, 1]
    assert np.all(table.completion_tokens > 0)


def test_unknown_model_gets_metadata_prior_favouring_larger_newer(make_records) -> None:
    scorer = PriorScorer(build_prior_stats(make_records()))
    small = ModelCard("x-small", params_b=3, release_date=date(2023, 1, 1))
    large = ModelCard("x-large", params_b=400, release_date=date(2024, 6, 1))
    table = scorer.score(["q"], [small, large])
    assert table.source == ("metadata-prior", "metadata-prior")
    assert table.quality[0, 0] < table.quality[0, 1]


def test_few_records_shrink_toward_prior(make_records) -> None:
    stats = build_prior_stats(make_records(n_prompts=10))
    scorer = PriorScorer(stats, min_records=100)
    quality, _, source = scorer.column(ModelCard("big-model"))
    raw = stats["big-model"].mean_score
    prior, _, _ = scorer.column(ModelCard("never-seen"))
    assert source == "shrunk"
    assert min(raw, prior) < quality < max(raw, prior)


def test_stats_round_trip(tmp_path, make_records) -> None:
    stats = build_prior_stats(make_records())
    save_prior_stats(stats, tmp_path / "s.json")
    assert load_prior_stats(tmp_path / "s.json") == stats
