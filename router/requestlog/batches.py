"""A batch of ``Record``s into the ``requests`` table, and what became of each.

Each batch is one transaction (``RowInserter``: multi-row INSERTs on SQLite, ``COPY`` on
PostgreSQL). A failed batch is tried once more after a short pause; if it fails again,
its rows go one by one, so one bad row (an id already taken) costs only itself. The
same code runs in the writer process (``router.requestlog.child``) and, with
``PARETOROUTE_REQUEST_LOG_WRITER=thread``, on the server's writer thread.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from router.gil import yield_gil
from router.requestlog.records import Record
from router.requestlog.row_insert import RowInserter
from router.requestlog.rows import RowBuilder

logger = logging.getLogger(__name__)

#: Building rows is pure Python: on a thread that shares the GIL with the event loop,
#: sleep (``yield_gil``) after this many, so the loop never waits behind more.
YIELD_EVERY = 16
_RETRY_DELAY_S = 0.2


@dataclass(frozen=True, slots=True)
class WriteCounts:
    """Rows committed, records that could not be made into rows, rows the database refused."""

    written: int = 0
    invalid: int = 0
    failed: int = 0


class DatabaseWriter:
    """Builds and inserts the rows of each batch it is given."""

    def __init__(self, engine: Engine, rows: RowBuilder, *, shares_gil: bool = True) -> None:
        self.engine = engine
        self.rows = rows
        self.shares_gil = shares_gil
        self._inserter = RowInserter(engine.dialect, shares_gil=shares_gil)

    def _build(self, records: Sequence[Record]) -> tuple[list[dict[str, Any]], int]:
        rows, invalid = [], 0
        for number, record in enumerate(records, 1):
            if self.shares_gil and number % YIELD_EVERY == 0:
                yield_gil()
            try:
                rows.append(self.rows.build(record))
            except Exception:
                logger.exception("request log: could not build a row; dropped")
                invalid += 1
        return rows, invalid

    def _insert(self, rows: list[dict[str, Any]]) -> None:
        with self.engine.begin() as connection:
            self._inserter.insert(connection, rows)

    def write(self, records: Sequence[Record]) -> WriteCounts:
        """Write ``records``; never raises for a bad row or a database error."""
        rows, invalid = self._build(records)
        if not rows:
            return WriteCounts(invalid=invalid)
        for attempt in range(2):
            try:
                self._insert(rows)
                return WriteCounts(written=len(rows), invalid=invalid)
            except SQLAlchemyError:
                logger.warning("request log: batch of %d failed (try %d)", len(rows), attempt + 1)
                time.sleep(_RETRY_DELAY_S)
        # One bad row must not take the batch down with it: write the rest one by one.
        written = 0
        for row in rows:
            try:
                self._insert([row])
                written += 1
            except SQLAlchemyError:
                logger.exception("request log: row %s not written", row["id"])
        return WriteCounts(written=written, invalid=invalid, failed=len(rows) - written)

    def start(self) -> None:
        """Nothing to start: rows are written on the caller's thread."""

    def close(self) -> None:
        """Nothing to release: the engine belongs to the caller."""
