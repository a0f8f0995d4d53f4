"""Letting the event loop have the GIL back from a background thread.

A thread that runs Python (or numpy on small arrays) keeps the GIL until CPython's switch
interval (5 ms) forces it off; a request whose event loop wakes meanwhile waits that long.
Background work in the server (request-log rows, runtime refits) therefore calls
``yield_gil`` between short steps. A real sleep, not ``sleep(0)``: ``sqlite3`` and numpy
release the GIL for microseconds at a time, and a thread that releases it and asks again
takes it back before the waiting event loop has even woken up.
"""

from __future__ import annotations

import time

#: Long enough that a thread waiting for the GIL wakes and takes it; under a saturated
#: loop the sleeper then waits up to the switch interval.
YIELD_S = 0.0001


def yield_gil() -> None:
    """Sleep ``YIELD_S``: a thread that waits for the GIL runs meanwhile."""
    time.sleep(YIELD_S)
