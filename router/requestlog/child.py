"""The writer process (``router.requestlog.process_writer``): reads a ``ChildConfig`` and
then batches of ``Record``s on stdin, writes each batch, answers ``WriteCounts`` on stdout.

It exits when stdin ends or says ``CLOSE``. SIGINT and SIGTERM are ignored: the server
decides when the log is done (it closes the pipe after handing over what was queued).
It runs at a lower priority (``NICENESS``) than the server.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import sys

from router.requestlog.batches import DatabaseWriter, WriteCounts
from router.requestlog.costs import CostTable
from router.requestlog.database import create_log_engine
from router.requestlog.process_writer import CLOSE, ChildConfig, receive, send
from router.requestlog.rows import RowBuilder

logger = logging.getLogger("router.requestlog.child")

#: Added to the writer's nice value: where it shares a core with the server's event loop
#: (or, on a small box, with the upstream), the scheduler runs them first. Rows only
#: wait a little longer; the queue in the server absorbs that.
NICENESS = 10


def main() -> None:
    """Serve the parent until its pipe closes."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    with contextlib.suppress(OSError):  # not permitted here: the server's priority, then
        os.nice(NICENESS)
    replies = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # a stray print cannot garble replies
    logging.basicConfig(
        level=logging.WARNING, format="%(levelname)s request-log writer: %(message)s"
    )
    requests = sys.stdin.buffer
    config = receive(requests)
    if not isinstance(config, ChildConfig):
        return
    costs = CostTable(config.economics)
    engine = create_log_engine(config.url)
    writer = DatabaseWriter(
        engine, RowBuilder(costs, config.scorer, config.log_content), shares_gil=False
    )
    try:
        while (message := receive(requests)) is not None and message != CLOSE:
            records, runtime = message
            costs.runtime.update(runtime)
            try:
                counts = writer.write(records)
            except Exception:  # the writer must outlive any one bad batch
                logger.exception("batch of %d lost", len(records))
                counts = WriteCounts(failed=len(records))
            send(replies, counts)
    finally:
        engine.dispose()
