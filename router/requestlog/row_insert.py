"""A batch of ``requests`` rows in as few driver calls as the database allows.

Why not SQLAlchemy's ``executemany``: all of a batch's Python work (parameter
conversion, binding, per-row compiled parameters) runs in one stretch under the GIL the
writer thread shares with the event loop, and on PostgreSQL psycopg's pipeline adds
Python-level work per row. ``sqlite3`` does release the GIL around each row's
``sqlite3_step``, but for microseconds: the writer takes it back before a waiting event
loop has even woken up, so the loop waits until CPython's switch interval (5 ms) forces
the writer off.

- **SQLite:** the rows go in slices of ``ROWS_PER_STATEMENT``, one ``INSERT ... VALUES
  (...), (...)`` each, with a real sleep (``yield_gil``) between slices: the loop waits
  behind one slice's work at most.
- **PostgreSQL:** one ``COPY requests (...) FROM STDIN`` per batch, the rows written by
  psycopg's C row writer, with the same sleeps. A long multi-row INSERT was no cheaper
  there (psycopg re-parses a statement of more than 50 parameters on every call): the
  writer took 0.61-0.66 ms of CPU per row with ``executemany`` or multi-row INSERTs, and
  0.45-0.47 ms with ``COPY`` (``auto`` at concurrency 1, BENCHMARKS.md).

Values are converted by the same SQLAlchemy bind processors an ORM insert uses (JSON text
via orjson, UTC datetimes, booleans), so the stored values are identical and SQLAlchemy
reads them back as before; the schema stays Alembic's.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

from sqlalchemy import Connection, Dialect, insert
from sqlalchemy.exc import DBAPIError

from router.gil import yield_gil
from router.requestlog.schema import REQUEST_COLUMNS, RequestRow

#: SQLite's default limit on ``?`` parameters in one statement before version 3.32.
SQLITE_MAX_VARIABLES = 999
#: Rows per statement (SQLite) or between sleeps (PostgreSQL): the writer yields the GIL
#: between slices, so a waiting event loop waits behind this many rows' conversion
#: (~8 us each) at most.
ROWS_PER_STATEMENT = 16
_PYSQLITE = ("sqlite", "pysqlite")
_PSYCOPG = ("postgresql", "psycopg")


def _no_pause() -> None:
    """In the writer process nothing waits for the GIL."""


class RowInserter:
    """Writes ``requests`` rows (dicts keyed by column name): multi-row INSERTs on
    SQLite (pysqlite), ``COPY`` on PostgreSQL (psycopg), SQLAlchemy's ``executemany``
    on any other database or driver."""

    def __init__(self, dialect: Dialect, *, shares_gil: bool = True) -> None:
        #: Sleep between slices (``yield_gil``) only on a thread beside the event loop.
        self._pause = yield_gil if shares_gil else _no_pause
        columns = RequestRow.__table__.columns
        self._processors: list[Callable[[Any], Any] | None] = [
            columns[name].type.dialect_impl(dialect).bind_processor(dialect)
            for name in REQUEST_COLUMNS
        ]
        names = ", ".join(REQUEST_COLUMNS)
        engine = (dialect.name, dialect.driver)
        self._copy = f"COPY requests ({names}) FROM STDIN" if engine == _PSYCOPG else None
        self._multi_row = engine == _PYSQLITE
        self._head = f"INSERT INTO requests ({names}) VALUES "
        self._values = "(" + ", ".join("?" * len(REQUEST_COLUMNS)) + ")"
        most = max(1, SQLITE_MAX_VARIABLES // len(REQUEST_COLUMNS))
        self.rows_per_statement = min(ROWS_PER_STATEMENT, most)

    def _values_of(self, row: dict[str, Any]) -> list[Any]:
        return [
            row[name] if process is None else process(row[name])
            for name, process in zip(REQUEST_COLUMNS, self._processors, strict=True)
        ]

    def statements(self, rows: Sequence[dict[str, Any]]) -> Iterator[tuple[str, tuple[Any, ...]]]:
        """SQLite's (SQL, parameters) for ``rows``, as few statements as its parameter
        limit allows."""
        step = self.rows_per_statement
        for start in range(0, len(rows), step):
            chunk = rows[start : start + step]
            sql = self._head + ", ".join([self._values] * len(chunk))
            yield sql, tuple(value for row in chunk for value in self._values_of(row))

    def insert(self, connection: Connection, rows: Sequence[dict[str, Any]]) -> None:
        """Insert ``rows`` on ``connection`` (inside the caller's transaction)."""
        if self._copy is not None:
            self._copy_rows(connection, self._copy, rows)
            return
        if not self._multi_row:
            connection.execute(insert(RequestRow), rows)
            return
        for number, (sql, parameters) in enumerate(self.statements(rows)):
            if number:
                self._pause()
            connection.exec_driver_sql(sql, parameters)

    def _copy_rows(
        self, connection: Connection, statement: str, rows: Sequence[dict[str, Any]]
    ) -> None:
        driver = connection.connection.driver_connection  # psycopg's, in this transaction
        assert driver is not None, "a checked-out connection has its driver connection"
        dbapi_error = connection.dialect.loaded_dbapi.Error
        try:
            with driver.cursor() as cursor, cursor.copy(statement) as copy:
                for number, row in enumerate(rows):
                    if number and number % self.rows_per_statement == 0:
                        self._pause()
                    copy.write_row(self._values_of(row))
        except dbapi_error as error:
            # As SQLAlchemy's own calls raise it (IntegrityError, OperationalError, ...):
            # the writer retries, then writes row by row, on SQLAlchemy's errors.
            raise DBAPIError.instance(statement, None, error, dbapi_error) from None
