"""A group's window of training vectors gives the full product's bits for its rows."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from predictors.row_window import ALIGN, RowWindow


def _matrix(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    rows = rng.standard_normal((n, 128)).astype(np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


@pytest.mark.parametrize("n", [2218, 1000, 257, 63])
def test_windows_match_the_full_product_for_every_group(n: int) -> None:
    matrix = _matrix(n)
    cuts = sorted({0, n // 7, n // 3, n // 3 + 5, (2 * n) // 3 + 1, n - 3, n})
    probes = np.vstack([matrix[:: max(n // 40, 1)], _matrix(60, seed=1)])
    for begin, end in itertools.pairwise(cuts):
        rows = np.arange(begin, end)
        window = RowWindow.build(matrix, rows)
        assert window is not None, (begin, end)
        assert window.start % ALIGN == 0 and window.start <= begin
        assert window.stop == n or (window.stop % ALIGN == 0 and window.stop >= end)
        for probe in probes:
            one = probe[None, :]
            np.testing.assert_array_equal(
                window.similarities(one, matrix), (one @ matrix.T)[0][rows]
            )


def test_rows_that_are_not_contiguous_get_no_window() -> None:
    matrix = _matrix(300)
    assert RowWindow.build(matrix, np.array([0, 1, 2, 5])) is None
    assert RowWindow.build(matrix, np.array([], dtype=np.intp)) is None


def test_the_probe_check_refuses_a_window_that_rounds_differently() -> None:
    """A window that ends at the group's own last row puts it in the remainder kernel;
    where this BLAS rounds those differently, the check must see it."""
    matrix = _matrix(2218)
    rows = np.arange(1032, 1331)  # 299 rows: a remainder of 3 in any block of 4
    naive = RowWindow(1032, 1331, 0, 299)
    probes = _matrix(50, seed=2)
    differs = any(
        not np.array_equal(naive.similarities(p[None, :], matrix), (p[None, :] @ matrix.T)[0][rows])
        for p in probes
    )
    if not differs:
        pytest.skip("this BLAS rounds a product's last rows as it rounds the others")
    assert not naive._agrees(matrix, rows)
    assert RowWindow.build(matrix, rows) is not None  # the aligned window agrees
