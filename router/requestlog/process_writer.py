"""The request log's rows are built and written in a process of their own.

Why: building a row (parsing the captured bytes, pricing, the prediction table) and
converting it for the database is pure Python. On a thread of the server it shares the
GIL with the event loop, and every hand-over of the GIL, not only the work, delays the
request the loop is serving: at concurrency 1 the log cost ~0.4 ms of p50 and ~1.5 ms of
p99 (``bench/before_after.py``). Here the server's writer thread only copies each capture
into a ``Record`` (~7 us) and pickles the batch down a pipe (~5 us a row); the child
(``router.requestlog.child``) builds, inserts and answers with ``WriteCounts`` once the
batch is committed, so ``flush`` still means written.

If the child dies, it is started again and the batch is sent once more (a row it had
committed is then refused as a taken id and counted as ``write_error``); a batch that
fails twice, or finds no child that starts, is counted as ``write_error``; the next batch
tries again. The child ignores SIGINT and SIGTERM, so it outlives a Ctrl-C to the process
group for as long as the server needs to hand over what is queued, and exits when its
pipe closes: never orphaned.
"""

from __future__ import annotations

import logging
import pickle
import struct
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from policies.economics import ModelEconomics
from policies.runtime import RuntimeParams
from router.requestlog.batches import WriteCounts
from router.requestlog.records import Record

logger = logging.getLogger(__name__)

_LENGTH = struct.Struct("<Q")
#: Sent instead of a batch: write nothing more, release the database, exit.
CLOSE = "close"
#: Seconds ``close`` waits for the child to exit before killing it.
CLOSE_TIMEOUT_S = 30.0
#: The child runs this checkout's code, whatever the server's ``sys.path`` order.
_CHILD_CODE = (
    "import sys; sys.path.insert(0, sys.argv[1]); from router.requestlog.child import main; main()"
)
_PACKAGE_ROOT = str(Path(__file__).resolve().parents[2])


@dataclass(frozen=True, slots=True)
class ChildConfig:
    """What the child needs to write rows as the server would."""

    url: str
    scorer: str
    log_content: bool
    economics: dict[str, ModelEconomics]


def send(stream: IO[bytes], message: Any) -> None:
    """One length-prefixed pickle."""
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(_LENGTH.pack(len(data)))
    stream.write(data)
    stream.flush()


def _exactly(stream: IO[bytes], size: int) -> bytes | None:
    chunks, left = [], size
    while left:
        chunk = stream.read(left)
        if not chunk:
            return None
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def receive(stream: IO[bytes]) -> Any | None:
    """The next message, or None at the end of the stream."""
    head = _exactly(stream, _LENGTH.size)
    if head is None:
        return None
    body = _exactly(stream, _LENGTH.unpack(head)[0])
    return None if body is None else pickle.loads(body)


class ProcessWriter:
    """The server's side of the writer process; used by the writer thread only."""

    def __init__(
        self,
        config: ChildConfig,
        runtime: Callable[[], dict[str, RuntimeParams]],
        on_restart: Callable[[], None] = lambda: None,
    ) -> None:
        self.config = config
        self.runtime = runtime
        #: Called for every start after the first (``paretoroute_request_log_writer_restarts``).
        self.on_restart = on_restart
        self._tried = False  # whether a child was ever started (or tried)
        self.command = [sys.executable, "-c", _CHILD_CODE, _PACKAGE_ROOT]
        self._child: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start the child (it imports and connects while the first rows queue up); a
        failure is logged, and the next batch tries again."""
        if self._child is not None and self._child.poll() is None:
            return
        if self._tried:
            self.on_restart()
        self._tried = True
        try:
            child = subprocess.Popen(self.command, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        except OSError as error:
            logger.error("request log: cannot start the writer process: %s", error)
            return
        self._child = child
        assert child.stdin is not None
        try:
            send(child.stdin, self.config)
        except (OSError, ValueError) as error:
            logger.error("request log: the writer process ended at once: %s", error)
            self._stop(kill=True)

    def _exchange(self, records: Sequence[Record]) -> WriteCounts:
        self.start()
        child = self._child
        if child is None or child.stdin is None or child.stdout is None:
            raise OSError("no writer process")
        send(child.stdin, (list(records), self.runtime()))
        counts = receive(child.stdout)
        if not isinstance(counts, WriteCounts):
            raise EOFError("the writer process ended")
        return counts

    def write(self, records: Sequence[Record]) -> WriteCounts:
        """Have the child write ``records``; never raises."""
        for attempt in range(2):
            try:
                return self._exchange(records)
            except (OSError, ValueError, EOFError, pickle.PickleError) as error:
                logger.error(
                    "request log: writer process failed (%s, try %d); starting it again",
                    error,
                    attempt + 1,
                )
                self._stop(kill=True)
        return WriteCounts(failed=len(records))

    def _stop(self, *, kill: bool) -> None:
        child, self._child = self._child, None
        if child is None:
            return
        try:
            if not kill and child.stdin is not None:
                send(child.stdin, CLOSE)
                child.stdin.close()
                child.wait(CLOSE_TIMEOUT_S)
        except (OSError, ValueError, subprocess.TimeoutExpired) as error:
            logger.error("request log: writer process did not stop (%s); killed", error)
        finally:
            if child.poll() is None:
                child.kill()
                child.wait()
            for stream in (child.stdin, child.stdout):
                if stream is not None:
                    stream.close()

    def close(self) -> None:
        """Stop the child once it has written everything it was given."""
        self._stop(kill=False)
