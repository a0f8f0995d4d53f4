"""Request ids: the shape clients see, unique, and ordered by time (the log's index)."""

from __future__ import annotations

import re
import time

from router.request_ids import new_request_id

SHAPE = re.compile(r"pr-[0-9a-f]{32}")


def test_ids_have_the_documented_shape_and_do_not_repeat() -> None:
    ids = [new_request_id() for _ in range(20_000)]
    assert all(SHAPE.fullmatch(i) for i in ids)
    assert len(set(ids)) == len(ids)


def test_a_later_millisecond_sorts_later() -> None:
    earlier = [new_request_id() for _ in range(50)]
    time.sleep(0.003)
    later = [new_request_id() for _ in range(50)]
    assert max(earlier) < min(later)
    stamp = int(later[0][3:15], 16)
    assert abs(stamp - time.time() * 1000) < 60_000
