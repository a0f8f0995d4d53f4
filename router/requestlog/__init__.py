"""The durable request log: one row per generation request, and feedback against it.

::

    request ─▶ RequestLogMiddleware (router.requestlog.capture)
                  │  a Capture: raw request/response bytes, timings, the Plan
                  ▼
               RequestLog.submit ── bounded queue (full → counted drop) ──▶ writer thread
                                                        │ Record per capture (plain values)
                                                        ▼ one pickled batch down a pipe
                                     writer process (router.requestlog.child): build rows,
                                     one transaction per batch, answer WriteCounts
               POST /v1/feedback ─▶ FeedbackStore ─▶ ``feedback`` joined on ``requests.id``

Storage is SQLite in ``PARETOROUTE_DATA_DIR`` by default (WAL) or PostgreSQL by
``PARETOROUTE_DATABASE_URL``; the schema is upgraded with Alembic at start. Parsing the
captured bytes, pricing and the insert happen in the writer process, never on the
response path and never under the event loop's GIL (``PARETOROUTE_REQUEST_LOG_WRITER=
thread`` keeps them on the writer thread instead).
"""

from router.requestlog.database import database_url, open_database
from router.requestlog.feedback_store import FeedbackStore
from router.requestlog.writer import RequestLog, build_request_log

__all__ = ["FeedbackStore", "RequestLog", "build_request_log", "database_url", "open_database"]
