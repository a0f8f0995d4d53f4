"""Virtual keys in the router's database (SQLAlchemy 2 Core, its own ``MetaData``).

The table comes from the request log's Alembic chain (revision 0002), so opening a store
upgrades the database to the newest revision, as the request log does. The database is
``PARETOROUTE_DATABASE_URL`` (default ``sqlite:///<PARETOROUTE_DATA_DIR>/paretoroute.db``).
Calls are synchronous and short; the server runs them in a worker thread.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    DateTime,
    Engine,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    insert,
    select,
    update,
)

from router.auth.keys import KeyLimits, KeySpec, VirtualKey, hash_key, hint, new_key
from router.requestlog.database import open_database

METADATA = MetaData()

API_KEYS = Table(
    "paretoroute_api_keys",
    METADATA,
    Column("id", String(32), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("key_sha256", String(64), nullable=False, unique=True, index=True),
    Column("hint", String(32), nullable=False),
    Column("allowed_models", JSON, nullable=True),
    Column("allowed_profiles", JSON, nullable=True),
    Column("budget_usd_per_day", Float, nullable=True),
    Column("budget_usd_per_month", Float, nullable=True),
    Column("rpm", Integer, nullable=True),
    Column("tpm", Integer, nullable=True),
    Column("max_parallel", Integer, nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True), nullable=True),
)

_LIMIT_COLUMNS = tuple(KeyLimits.model_fields)


def database_url(data_dir: Path, url: str | None) -> str:
    """The configured URL, or the SQLite file in the data directory (created if needed)."""
    if url:
        return url
    data_dir.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{data_dir / 'paretoroute.db'}"


def _utc(value: datetime | None) -> datetime | None:
    # SQLite returns naive datetimes; every stored time is UTC.
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def _row_key(row: Any) -> VirtualKey:
    limits = KeyLimits(**{name: getattr(row, name) for name in _LIMIT_COLUMNS})
    created = _utc(row.created_at)
    assert created is not None
    return VirtualKey(
        id=row.id,
        name=row.name,
        limits=limits,
        created_at=created,
        revoked_at=_utc(row.revoked_at),
        hint=row.hint,
    )


class KeyStore:
    """Create, list, find, revoke virtual keys."""

    def __init__(self, url: str) -> None:
        self.engine: Engine = open_database(url)

    def create(self, spec: KeySpec) -> tuple[VirtualKey, str]:
        """Store a new key; return it and its secret (the only time the secret exists)."""
        key_id, secret = new_key()
        values = {
            "id": key_id,
            "name": spec.name,
            "key_sha256": hash_key(secret),
            "hint": hint(secret),
            "created_at": datetime.now(UTC),
            **spec.model_dump(include=set(_LIMIT_COLUMNS)),
        }
        with self.engine.begin() as conn:
            conn.execute(insert(API_KEYS).values(**values))
        found = self.get(key_id)
        assert found is not None
        return found, secret

    def get(self, key_id: str) -> VirtualKey | None:
        """A key by id (revoked ones included)."""
        with self.engine.connect() as conn:
            row = conn.execute(select(API_KEYS).where(API_KEYS.c.id == key_id)).first()
        return _row_key(row) if row is not None else None

    def find(self, secret: str) -> VirtualKey | None:
        """The live key whose secret this is, or None."""
        digest = hash_key(secret)
        with self.engine.connect() as conn:
            row = conn.execute(select(API_KEYS).where(API_KEYS.c.key_sha256 == digest)).first()
        if row is None or row.revoked_at is not None:
            return None
        return _row_key(row)

    def list_keys(self, *, include_revoked: bool = False) -> list[VirtualKey]:
        """Keys in creation order."""
        query = select(API_KEYS).order_by(API_KEYS.c.created_at, API_KEYS.c.id)
        if not include_revoked:
            query = query.where(API_KEYS.c.revoked_at.is_(None))
        with self.engine.connect() as conn:
            return [_row_key(row) for row in conn.execute(query)]

    def revoke(self, key_id: str) -> VirtualKey | None:
        """Mark a key revoked (idempotent); None if there is no such key."""
        with self.engine.begin() as conn:
            conn.execute(
                update(API_KEYS)
                .where(API_KEYS.c.id == key_id, API_KEYS.c.revoked_at.is_(None))
                .values(revoked_at=datetime.now(UTC))
            )
        return self.get(key_id)

    def close(self) -> None:
        """Dispose of the connection pool."""
        self.engine.dispose()
