"""The exact Pareto front: definition, duplicates, masks and a brute-force cross-check."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from policies.pareto import pareto_front


def _dominates(a: tuple[float, float, float], b: tuple[float, float, float]) -> bool:
    weakly = a[0] >= b[0] and a[1] <= b[1] and a[2] <= b[2]
    return weakly and a != b


def test_single_model_is_the_front() -> None:
    front = pareto_front(np.array([0.5]), np.array([1.0]), np.array([2.0]))
    assert front.tolist() == [True]


def test_dominated_model_is_removed() -> None:
    quality = np.array([0.9, 0.8, 0.95])
    cost = np.array([1.0, 2.0, 3.0])
    runtime = np.array([1.0, 1.0, 1.0])
    # model 1 is worse than model 0 on quality and cost; model 2 trades cost for quality.
    assert pareto_front(quality, cost, runtime).tolist() == [True, False, True]


def test_runtime_alone_can_keep_a_model_on_the_front() -> None:
    quality = np.array([0.9, 0.9])
    cost = np.array([1.0, 1.0])
    runtime = np.array([2.0, 1.0])
    assert pareto_front(quality, cost, runtime).tolist() == [False, True]


def test_exact_duplicates_both_stay_on_the_front() -> None:
    quality = np.array([0.7, 0.7, 0.6])
    cost = np.array([1.0, 1.0, 1.0])
    runtime = np.array([1.0, 1.0, 1.0])
    assert pareto_front(quality, cost, runtime).tolist() == [True, True, False]


def test_mask_excludes_rows_from_dominating() -> None:
    quality = np.array([0.9, 0.8])
    cost = np.array([1.0, 2.0])
    runtime = np.array([1.0, 1.0])
    mask = np.array([False, True])
    assert pareto_front(quality, cost, runtime, mask=mask).tolist() == [False, True]


points = st.lists(
    st.tuples(
        st.integers(0, 8).map(lambda v: v / 8),
        st.integers(0, 8).map(float),
        st.integers(0, 8).map(float),
    ),
    min_size=1,
    max_size=15,
)


@given(points)
def test_front_matches_brute_force(rows: list[tuple[float, float, float]]) -> None:
    quality, cost, runtime = (np.array(col) for col in zip(*rows, strict=True))
    front = pareto_front(quality, cost, runtime)
    expected = [not any(_dominates(other, row) for other in rows) for row in rows]
    assert front.tolist() == expected
    assert front.any()


def test_front_matches_the_pairwise_definition_with_ties_and_nan() -> None:
    rng = np.random.default_rng(1)
    for _ in range(500):
        m = int(rng.integers(1, 9))
        q, c, r = (rng.choice([0.0, 0.5, 1.0, np.nan, np.inf], size=m) for _ in range(3))
        mask = rng.random(m) < 0.8
        weakly = (q[:, None] >= q) & (c[:, None] <= c) & (r[:, None] <= r)
        tie = (q[:, None] == q) & (c[:, None] == c) & (r[:, None] == r)
        dominates = weakly & ~tie & mask[:, None]
        expected = mask & ~dominates.any(axis=0)
        np.testing.assert_array_equal(pareto_front(q, c, r, mask=mask), expected)
