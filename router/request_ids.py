"""Request ids: ``pr-`` and 32 hex digits, ordered by time.

The first 12 digits are the milliseconds since the Unix epoch, the other 20 are 80
random bits. The request log's primary key is this id, so a time-ordered id lands at the
end of its index: with random ids (``uuid4``), every insert into a log of 289,000 rows
dirtied a random index page, and a row cost 126-138 µs of CPU against 77-80 µs
(``bench/request_log_ids.py``), a cost that kept growing with the log. 80 random bits
keep two ids of the same millisecond apart (a collision needs ~10^12 ids in that
millisecond).
"""

from __future__ import annotations

import secrets
import time

PREFIX = "pr-"


def request_id_at(milliseconds: int) -> str:
    """An id stamped ``milliseconds`` after the epoch: later milliseconds sort later (as
    strings and in an index)."""
    return f"{PREFIX}{milliseconds:012x}{secrets.randbits(80):020x}"


def new_request_id() -> str:
    """A fresh id, stamped now."""
    return request_id_at(time.time_ns() // 1_000_000)
