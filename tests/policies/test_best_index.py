"""One prompt's ranking (1-d ``rank_rows``) and ``best_index`` agree with the batch
ranking, ties and missing values included."""

from __future__ import annotations

import numpy as np

from policies.choice import best_index, rank_rows


def test_best_index_agrees_with_the_full_ranking() -> None:
    rng = np.random.default_rng(0)
    for _ in range(3000):
        m = int(rng.integers(1, 15))  # up to past the eleven models of the default catalog
        # Few distinct values, so utilities and tie-break keys often tie.
        quality = rng.choice([0.2, 0.5, 0.5, 0.9, np.nan], size=m)
        cost = rng.choice([0.0, 1e-3, 1e-3, 2e-3, np.nan], size=m)
        runtime = rng.choice([0.5, 1.0, 1.0, np.inf], size=m)
        utility = quality - rng.choice([0.0, 10.0]) * cost
        pool = rng.random(m) < 0.8
        ranking = rank_rows(utility[None], quality[None], cost[None], runtime[None], pool[None])
        assert best_index(utility, quality, cost, runtime, pool) == int(ranking[0][0])
        np.testing.assert_array_equal(rank_rows(utility, quality, cost, runtime, pool), ranking[0])
