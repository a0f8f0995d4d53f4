"""The shipped migrations build exactly the tables the models describe."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text

from router.requestlog.database import database_url, open_database, sqlite_file
from router.requestlog.query import parse_since
from router.settings import Settings
from tests.requestlog.schema_models import all_models


def test_migrations_match_the_models(tmp_path: Path) -> None:
    engine = open_database(f"sqlite:///{tmp_path / 'log.db'}")
    with engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), all_models()) == []
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1


def test_default_url_is_a_file_in_the_data_dir(tmp_path: Path) -> None:
    url = database_url(Settings(data_dir=tmp_path / "state"))
    assert sqlite_file(url) == (tmp_path / "state" / "paretoroute.db").resolve()
    open_database(url).dispose()
    assert (tmp_path / "state" / "paretoroute.db").exists()
    explicit = "postgresql://u@127.0.0.1:5/db"
    assert database_url(Settings(database_url=explicit)) == explicit
    assert sqlite_file(explicit) is None


def test_parse_since() -> None:
    now = parse_since("2026-01-02T03:00:00")
    assert now.tzinfo is not None and now.hour == 3
    assert (now - parse_since("90m", now=now)).total_seconds() == 5400
    assert (now - parse_since("2d", now=now)).days == 2


def test_workers_starting_together_migrate_once(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    with ThreadPoolExecutor(max_workers=4) as pool:
        engines = list(pool.map(lambda _: open_database(url), range(4)))
    with engines[0].connect() as connection:
        assert connection.execute(text("select version_num from alembic_version")).all() == [
            ("0002",)
        ]


def test_a_key_table_made_before_the_migration_is_kept(tmp_path: Path) -> None:
    """Databases from before revision 0002 got the keys table from ``create_all``."""
    from alembic import command
    from alembic.config import Config

    from router.auth.keys import KeySpec
    from router.auth.store import API_KEYS, METADATA, KeyStore
    from router.requestlog.database import MIGRATIONS, create_log_engine

    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = create_log_engine(url)
    config = Config()
    config.set_main_option("script_location", MIGRATIONS)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0001")
    METADATA.create_all(engine)  # what an older key store did
    with engine.begin() as connection:
        connection.execute(
            API_KEYS.insert().values(
                id="key_old",
                name="old",
                key_sha256="0" * 64,
                hint="sk-...old",
                created_at=datetime.now(UTC),
            )
        )
    store = KeyStore(url)
    created, _ = store.create(KeySpec(name="new"))
    assert {key.id for key in store.list_keys()} == {"key_old", created.id}
    with store.engine.connect() as connection:
        assert connection.execute(text("select version_num from alembic_version")).all() == [
            ("0002",)
        ]
        assert compare_metadata(MigrationContext.configure(connection), all_models()) == []
