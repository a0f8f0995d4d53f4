"""The similarities of one prompt to a group's training rows, without the other groups'.

``FeatureBuilder`` ranks a new prompt against its group's training rows only, but the
general path takes them from the product with *all* rows: a product with fewer rows can
round differently. Measured with this machine's OpenBLAS ``sgemv``: every row gets the
same bits whatever its position in the matrix, except the last ``n mod w`` rows of a
product (``w`` the kernel's block of rows), which a remainder kernel adds up in another
order. A slice of the rows whose end keeps its rows out of that remainder, or shares the
full matrix's end, therefore gives the full product's bits for them:

* the slice starts at a multiple of ``ALIGN`` rows at or before the group's first row
  (the start does not matter, but it keeps the slice's blocks where the full's are);
* it ends at the next multiple of ``ALIGN`` after the group's last row, if that is still
  before the full matrix's remainder, and at the full matrix's end otherwise.

Any block width that divides ``ALIGN`` keeps this true. For a BLAS that rounds some
other way, ``RowWindow.build`` compares the slice's product with the full product on
probe vectors (the group's own training rows and seeded random ones) and returns
``None`` on any difference: the caller then multiplies by the whole matrix, as before.
For the shipped artifact (three contiguous groups of 1,032, 299 and 887 rows out of
2,218) the windows hold 1,088, 320 and 938 rows: a decision reads 0.16-0.56 MB of
float32 vectors instead of 1.1 MB.
"""

from __future__ import annotations

from typing import NamedTuple, Self

import numpy as np
from numpy.typing import NDArray

#: Row multiple the windows start and end at (a multiple of any kernel's block of rows).
ALIGN = 64
_N_RANDOM_PROBES = 8


class RowWindow(NamedTuple):
    """Rows ``start:stop`` of the matrix; the group's rows are ``first:last`` of it."""

    start: int
    stop: int
    first: int
    last: int

    @classmethod
    def build(cls, matrix: NDArray[np.float32], rows: NDArray[np.intp]) -> Self | None:
        """The window for the group's ``rows`` (ascending) of ``matrix``, or ``None`` when
        they are not contiguous or the slice's product does not give the full's bits."""
        n = len(matrix)
        if len(rows) == 0 or rows[-1] - rows[0] + 1 != len(rows):
            return None
        begin, end = int(rows[0]), int(rows[-1]) + 1
        start = begin - begin % ALIGN
        stop = -(-end // ALIGN) * ALIGN
        if stop > n - n % ALIGN:
            stop = n
        window = cls(start, stop, begin - start, end - start)
        return window if window._agrees(matrix, rows) else None

    def similarities(
        self, vector: NDArray[np.float32], matrix: NDArray[np.float32]
    ) -> NDArray[np.float32]:
        """``(vector @ matrix.T)[0][rows]`` of the group's rows, from the window alone."""
        return (vector @ matrix[self.start : self.stop].T)[0][self.first : self.last]

    def _agrees(self, matrix: NDArray[np.float32], rows: NDArray[np.intp]) -> bool:
        rng = np.random.default_rng(0)
        noise = rng.standard_normal((_N_RANDOM_PROBES, matrix.shape[1])).astype(matrix.dtype)
        own = matrix[rows[:: max(len(rows) // _N_RANDOM_PROBES, 1)]]
        for probe in np.vstack([own, noise]):
            one = probe[None, :]
            if not np.array_equal(self.similarities(one, matrix), (one @ matrix.T)[0][rows]):
                return False
        return True
