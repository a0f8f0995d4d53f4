"""The multi-row insert stores exactly what SQLAlchemy's ORM insert stores (SQLite here,
PostgreSQL in ``test_postgres.py``)."""

from __future__ import annotations

import math
import sqlite3
from datetime import UTC
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, insert

from router.requestlog.database import open_database
from router.requestlog.row_insert import SQLITE_MAX_VARIABLES, RowInserter
from router.requestlog.schema import REQUEST_COLUMNS, RequestRow
from tests.requestlog.writer_checks import ROWS, request_row


def _stored(path: Path) -> list[tuple[Any, ...]]:
    with sqlite3.connect(path) as connection:
        columns = ", ".join(REQUEST_COLUMNS)
        return connection.execute(f"SELECT {columns} FROM requests ORDER BY id").fetchall()


def _database(path: Path) -> Engine:
    return open_database(f"sqlite:///{path}")


def test_multi_row_insert_stores_what_the_orm_insert_stores(tmp_path: Path) -> None:
    rows = [request_row(n) for n in range(ROWS)]
    orm, fast = _database(tmp_path / "orm.db"), _database(tmp_path / "fast.db")
    with orm.begin() as connection:
        connection.execute(insert(RequestRow), rows)
    inserter = RowInserter(fast.dialect)
    with fast.begin() as connection:
        inserter.insert(connection, rows)
    expected, written = _stored(tmp_path / "orm.db"), _stored(tmp_path / "fast.db")
    assert len(written) == ROWS
    assert written == expected
    created = dict(zip(REQUEST_COLUMNS, written[1], strict=True))["created_at"]
    assert created == rows[1]["created_at"].astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def test_statements_stay_under_the_parameter_limit(tmp_path: Path) -> None:
    inserter = RowInserter(_database(tmp_path / "a.db").dialect)
    statements = list(inserter.statements([request_row(n) for n in range(ROWS)]))
    assert len(statements) == math.ceil(ROWS / inserter.rows_per_statement) > 1
    assert all(len(parameters) <= SQLITE_MAX_VARIABLES for _, parameters in statements)
    assert sum(len(parameters) for _, parameters in statements) == ROWS * len(REQUEST_COLUMNS)
