"""``expand_rows`` (one logit call for prior and rates) equals the two-call original."""

from __future__ import annotations

import numpy as np

from predictors.lgbm import logit
from predictors.stacked import expand_rows


def _reference(x: np.ndarray, m: int, n_blocks: int) -> tuple[np.ndarray, np.ndarray]:
    n = len(x)
    prior = x[:, :m]
    blocks = x[:, m : m + n_blocks * (m + 1)].reshape(n, n_blocks, m + 1)
    rates, sims = blocks[:, :, :m], blocks[:, :, m]
    extra = x[:, m + n_blocks * (m + 1) :]
    init = logit(prior)
    relative = (logit(rates) - init[:, None, :]).transpose(0, 2, 1).reshape(n * m, n_blocks)
    shared = rates.mean(axis=2) - prior.mean(axis=1, keepdims=True)
    columns = [
        np.tile(np.arange(m, dtype=np.float64), n)[:, None],
        init.reshape(-1, 1),
        relative,
        np.repeat(shared, m, axis=0),
        np.repeat(sims, m, axis=0),
        np.repeat(extra, m, axis=0),
    ]
    return np.hstack(columns), init.reshape(-1)


def test_expand_rows_is_bit_identical_to_the_reference() -> None:
    rng = np.random.default_rng(0)
    for n in (1, 2, 7, 65, 700):
        x = np.hstack([rng.uniform(0, 1, (n, 11)), rng.uniform(-0.2, 1, (n, 36)),
                       rng.normal(size=(n, 12))])  # fmt: skip
        x[rng.random(x.shape) < 0.02] = 0.0  # clipped at the logit's bounds
        rows, init = expand_rows(x, 11, 3)
        expected_rows, expected_init = _reference(x, 11, 3)
        np.testing.assert_array_equal(rows, expected_rows)
        np.testing.assert_array_equal(init, expected_init)
