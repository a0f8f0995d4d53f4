"""A batch of ``requests`` rows as multi-row INSERTs, for SQLite.

Why not SQLAlchemy's ``executemany``: all of a batch's Python work (parameter
conversion, binding) runs in one stretch. ``sqlite3`` does release the GIL around each
row's ``sqlite3_step``, but for microseconds: the writer takes it back before a waiting
event loop has even woken up, so the loop waits until CPython's switch interval (5 ms)
forces the writer off. Here the rows go in slices of ``ROWS_PER_STATEMENT``, one
``INSERT ... VALUES (...), (...)`` each, with a real sleep (``yield_gil``) between
slices: the loop waits behind one slice's work at most. Values are converted by the
same SQLAlchemy bind processors an ORM insert uses (JSON text via orjson, UTC
datetimes, booleans), so the stored bytes are identical and SQLAlchemy reads them back
as before; the schema stays Alembic's.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

from sqlalchemy import Connection, Dialect

from router.gil import yield_gil
from router.requestlog.schema import REQUEST_COLUMNS, RequestRow

#: SQLite's default limit on ``?`` parameters in one statement before version 3.32.
SQLITE_MAX_VARIABLES = 999
#: Rows per statement: the writer yields the GIL between statements, so a waiting event
#: loop waits behind this many rows' parameter conversion (~8 us each) at most.
ROWS_PER_STATEMENT = 16


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
        for number, (sql, parameters) in enumerate(self.statements(rows)):
            if number:
                yield_gil()
            connection.exec_driver_sql(sql, parameters)
