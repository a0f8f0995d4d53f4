"""Where the request log lives and how its schema is brought up to date.

SQLite (the default, a file in ``PARETOROUTE_DATA_DIR``) runs in WAL mode with foreign
keys on; a ``postgresql://`` URL is driven by psycopg 3. ``open_database`` upgrades the
schema to the newest Alembic revision shipped in this package, so the server and the CLI
never see an old schema. No ``alembic.ini``: the config is built here.
"""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Connection, Engine, create_engine, event, inspect, text
from sqlalchemy.engine import URL, make_url

from router.settings import Settings

#: Seconds a SQLite writer waits for another writer's lock (other workers, the CLI).
SQLITE_BUSY_TIMEOUT_S = 60.0
MIGRATIONS = "router.requestlog:migrations"
#: PostgreSQL advisory-lock key held while migrating ("prte" in ASCII).
_MIGRATION_LOCK_KEY = 0x70727465


def database_url(settings: Settings) -> str:
    """``PARETOROUTE_DATABASE_URL``, else ``sqlite:///<data_dir>/paretoroute.db``."""
    if settings.database_url:
        return settings.database_url
    return f"sqlite:///{(settings.data_dir / 'paretoroute.db').resolve()}"


def _driver_url(url: str) -> URL:
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def _json_text(value: Any) -> str:
    # orjson: several times faster than json, and NaN/inf become null (valid JSON).
    return orjson.dumps(value).decode()


_JSON = {"json_serializer": _json_text, "json_deserializer": orjson.loads}


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def create_log_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite gets its directory created and WAL switched on."""
    parsed = _driver_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(parsed, pool_pre_ping=True, **_JSON)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        parsed,
        connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S, "check_same_thread": False},
        **_JSON,
    )
    event.listen(engine, "connect", _sqlite_pragmas)
    return engine


@contextmanager
def _file_lock(url: str) -> Iterator[None]:
    """An exclusive lock beside a SQLite file (nothing for other backends)."""
    path = sqlite_file(url)
    if path is None:
        yield
        return
    with open(path.with_name(path.name + ".migrate-lock"), "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _lock_postgres(connection: Connection) -> None:
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK_KEY})


def upgrade(engine: Engine) -> None:
    """Run every pending migration on ``engine`` (a no-op when already at head).

    Several workers may start at once: they take turns (a file lock beside a SQLite
    database, an advisory lock on PostgreSQL), so only the first one migrates.
    """
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", MIGRATIONS)
    with _file_lock(engine.url.render_as_string()), engine.begin() as connection:
        _lock_postgres(connection)
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def open_database(url: str) -> Engine:
    """An engine for ``url`` with the schema at the newest revision."""
    engine = create_log_engine(url)
    upgrade(engine)
    return engine


def sqlite_file(url: str) -> Path | None:
    """The file behind a SQLite URL (None for other backends or in-memory)."""
    parsed = _driver_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database or "")


def has_schema(engine: Engine) -> bool:
    """Whether the ``requests`` table exists (for read-only callers such as the CLI)."""
    return inspect(engine).has_table("requests")
