"""A batch of ``requests`` rows as multi-row INSERTs, for SQLite.

Why not SQLAlchemy's ``executemany``: Python's ``sqlite3`` releases the GIL around every
``sqlite3_step``, once per row, and takes it back after. On a busy server the event loop
holds the GIL, so the writer thread waits for each row's turn (up to the 5 ms switch
interval) and every return costs the loop a forced switch. One ``INSERT ... VALUES
(...), (...)`` of a few rows is one step, so a batch is a handful of handoffs instead of
one per row, each after a short stretch of Python work. Values are converted by the same
SQLAlchemy bind processors an ORM insert uses (JSON text via orjson, UTC datetimes,
booleans), so the stored bytes are identical and SQLAlchemy reads them back as before;
the schema stays Alembic's.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

from sqlalchemy import Connection, Dialect

from router.requestlog.schema import REQUEST_COLUMNS, RequestRow

#: SQLite's default limit on ``?`` parameters in one statement before version 3.32.
SQLITE_MAX_VARIABLES = 999
#: Rows per statement. The GIL is free while SQLite runs each statement, so a waiting
#: event loop gets its turn between statements: it never waits for more than this many
#: rows' parameter conversion (~8 us each).
ROWS_PER_STATEMENT = 8


class SQLiteRowInserter:
    """Writes ``requests`` rows (dicts keyed by column name) as multi-row INSERTs."""

    def __init__(self, dialect: Dialect) -> None:
        columns = RequestRow.__table__.columns
        self._processors: list[Callable[[Any], Any] | None] = [
            columns[name].type.dialect_impl(dialect).bind_processor(dialect)
            for name in REQUEST_COLUMNS
        ]
        self._head = f"INSERT INTO requests ({', '.join(REQUEST_COLUMNS)}) VALUES "
        self._values = "(" + ", ".join("?" * len(REQUEST_COLUMNS)) + ")"
        most = max(1, SQLITE_MAX_VARIABLES // len(REQUEST_COLUMNS))
        self.rows_per_statement = min(ROWS_PER_STATEMENT, most)

    def _parameters(self, rows: Sequence[dict[str, Any]]) -> list[Any]:
        flat: list[Any] = []
        for row in rows:
            for name, process in zip(REQUEST_COLUMNS, self._processors, strict=True):
                value = row[name]
                flat.append(value if process is None else process(value))
        return flat

    def statements(self, rows: Sequence[dict[str, Any]]) -> Iterator[tuple[str, tuple[Any, ...]]]:
        """(SQL, parameters) for ``rows``, as few statements as the parameter limit allows."""
        step = self.rows_per_statement
        for start in range(0, len(rows), step):
            chunk = rows[start : start + step]
            sql = self._head + ", ".join([self._values] * len(chunk))
            yield sql, tuple(self._parameters(chunk))

    def insert(self, connection: Connection, rows: Sequence[dict[str, Any]]) -> None:
        """Insert ``rows`` on ``connection`` (inside the caller's transaction)."""
        for sql, parameters in self.statements(rows):
            connection.exec_driver_sql(sql, parameters)
