"""Alembic migrations of the request log (run by ``router.requestlog.database.upgrade``)."""
