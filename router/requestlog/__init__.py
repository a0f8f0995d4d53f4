"""The durable request log: one row per generation request, and feedback against it.

::

    request ─▶ RequestLogMiddleware (router.requestlog.capture)
                  │  a Capture: raw request/response bytes, timings, the Plan
                  ▼
               RequestLog.submit ── bounded queue (full → counted drop) ──▶ writer thread
                                                                              │ build rows
                                                                              ▼
                                                        one transaction per batch (SQLAlchemy)
               POST /v1/feedback ─▶ FeedbackStore ─▶ ``feedback`` joined on ``requests.id``

Storage is SQLite in ``PARETOROUTE_DATA_DIR`` by default (WAL) or PostgreSQL by
``PARETOROUTE_DATABASE_URL``; the schema is upgraded with Alembic at start. Parsing the
captured bytes and pricing happen on the writer thread, never on the response path.
"""

from router.requestlog.database import database_url, open_database
from router.requestlog.feedback_store import FeedbackStore
from router.requestlog.writer import RequestLog, build_request_log

__all__ = ["FeedbackStore", "RequestLog", "build_request_log", "database_url", "open_database"]
