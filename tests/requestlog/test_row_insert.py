"""The multi-row insert stores exactly what SQLAlchemy's ORM insert stores (SQLite here,
PostgreSQL in ``test_postgres.py``)."""

from __future__ import annotations

import math
import sqlite3
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, insert

from router.requestlog.database import open_database
from router.requestlog.row_insert import SQLITE_MAX_VARIABLES, RowInserter
from router.requestlog.schema import REQUEST_COLUMNS, RequestRow

#: More rows than one statement may carry, so the insert must split them.
ROWS = 100


def request_row(number: int) -> dict[str, Any]:
    routed = number % 2 == 0
    zone = timezone(timedelta(hours=number % 5 - 2))
    row: dict[str, Any] = dict.fromkeys(REQUEST_COLUMNS)
    row |= {
        "id": f"pr-{number:032x}",
        "created_at": datetime(2026, 11, 26, 12, 0, number % 60, number * 997, tzinfo=zone),
        "endpoint": "chat" if routed else "text",
        "requested_model": "auto" if routed else "m-small",
        "chosen_model": "m-small",
        "fallback_chain": [] if routed else ["m-large", "m-small"],
        "predicted_cost_usd": 1e-4 * number,
        "total_ms": 1.5 + number,
        "stream": not routed,
        "status_code": 200 if number % 7 else 502,
        "prompt_text": "caf\u00e9 \U0001f600" if number % 3 == 0 else None,
    }
    if routed:
        row["preferences"] = {"cost_weight": 0.5, "allowed": ["a", "b"], "max_cost": None}
        row["predictions"] = [{"model": "m", "quality": math.nan, "on_front": True}]
        row["decision_ms"] = 0.25
    return row


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
