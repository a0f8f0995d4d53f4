"""Alembic environment: always online, on the connection ``upgrade`` passes in."""

from __future__ import annotations

from alembic import context

from router.requestlog.schema import Base

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=Base.metadata)
with context.begin_transaction():
    context.run_migrations()
