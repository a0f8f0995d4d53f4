"""The request log and feedback on a real PostgreSQL server, migrated by Alembic at start."""

from __future__ import annotations

import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import openai
import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, delete, insert, select, text

from predictors.prior import PriorScorer
from router.app import create_app
from router.catalog import Catalog
from router.requestlog.database import create_log_engine, open_database
from router.requestlog.row_insert import RowInserter
from router.requestlog.schema import RequestRow
from router.settings import Settings
from tests.requestlog.helpers import check_rows, read_rows, send_mix
from tests.requestlog.postgres import postgres_bin, postgres_server
from tests.requestlog.schema_models import all_models
from tests.requestlog.writer_checks import ROWS, check_one_bad_row_costs_only_itself, request_row
from tests.router.servers import FakeUpstreamState, live_server


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    bin_dir = postgres_bin()
    if bin_dir is None:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL server binaries missing in CI (.ci/run installs them)")
        pytest.skip("PostgreSQL server not installed (/usr/lib/postgresql/*/bin/initdb)")
    with postgres_server(bin_dir) as url:
        yield url


def test_rows_and_feedback_on_postgres(
    postgres_url: str, catalog: Catalog, upstream_state: FakeUpstreamState
) -> None:
    settings = Settings(database_url=postgres_url, log_content=True)
    app = create_app(settings, catalog=catalog, scorer=PriorScorer())
    with live_server(app) as url:
        client = openai.OpenAI(base_url=url + "/v1", api_key="unused", max_retries=0)
        sent = send_mix(client, upstream_state)
        feedback = {"request_id": sent[0].request_id, "thumbs": "down"}
        first = httpx.post(url + "/v1/feedback", json=feedback).json()
        second = httpx.post(url + "/v1/feedback", json={**feedback, "score": None}).json()
    assert (first["updated"], second["updated"]) == (False, True)
    engine = create_log_engine(postgres_url)
    assert engine.dialect.name == "postgresql" and engine.dialect.driver == "psycopg"
    check_rows(read_rows(engine), sent, catalog, content=True)
    with engine.connect() as connection:
        assert connection.execute(text("select version_num from alembic_version")).all() == [
            ("0002",)
        ]
        assert connection.execute(text("select count(*) from feedback")).scalar() == 1


def test_workers_starting_together_migrate_once(postgres_url: str) -> None:
    admin = create_engine(postgres_url.replace("postgresql://", "postgresql+psycopg://"))
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("create database fresh"))
    admin.dispose()
    fresh = postgres_url.rsplit("/", 1)[0] + "/fresh"
    with ThreadPoolExecutor(max_workers=3) as pool:
        for started in pool.map(lambda _: open_database(fresh), range(3)):
            started.dispose()
    engine = open_database(fresh)
    with engine.connect() as connection:
        tables = connection.execute(
            text("select tablename from pg_tables where schemaname = 'public' order by 1")
        ).all()
    assert [name for (name,) in tables] == [
        "alembic_version",
        "feedback",
        "paretoroute_api_keys",
        "requests",
    ]


def test_json_columns_are_jsonb(postgres_url: str) -> None:
    engine = open_database(postgres_url)
    query = text(
        "select column_name, data_type from information_schema.columns "
        "where table_name = 'requests' and data_type like 'json%' order by 1"
    )
    with engine.connect() as connection:
        found = connection.execute(query).all()
    assert found == [
        ("fallback_chain", "jsonb"),
        ("predictions", "jsonb"),
        ("preferences", "jsonb"),
    ]
    with engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), all_models()) == []


def test_multi_row_insert_stores_what_the_orm_insert_stores_on_postgres(postgres_url: str) -> None:
    engine = open_database(postgres_url)
    rows = [request_row(n) for n in range(ROWS)]
    table = RequestRow.__table__
    ordered = select(table).order_by(table.c.id)
    with engine.begin() as connection:
        connection.execute(delete(table))
        connection.execute(insert(RequestRow), rows)
        expected = connection.execute(ordered).all()
        connection.execute(delete(table))
        RowInserter(engine.dialect).insert(connection, rows)
        written = connection.execute(ordered).all()
        connection.execute(delete(table))
    assert len(written) == ROWS > RowInserter(engine.dialect).rows_per_statement
    assert written == expected
    engine.dispose()


def test_one_bad_row_costs_only_itself_on_postgres(postgres_url: str) -> None:
    admin = create_engine(postgres_url.replace("postgresql://", "postgresql+psycopg://"))
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("create database bad_row"))
    admin.dispose()
    check_one_bad_row_costs_only_itself(postgres_url.rsplit("/", 1)[0] + "/bad_row")
