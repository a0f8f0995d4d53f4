"""One keep-alive HTTP/1.1 client connection: an asyncio protocol with httptools' parser.

The router forwards to local model servers (vLLM, llama.cpp, Ollama) over plain HTTP on
loopback or a LAN, where its own CPU per request is the added latency. Forwarding a
call over aiohttp's client took about 0.37 ms of CPU here, over this protocol about
0.22 ms (``bench/http_clients.py``). It does one request at a time and only what a POST to
an OpenAI-style endpoint needs:

- the response head (status and headers), then the body as chunks in arrival order,
  de-chunked by the parser; a body without length or chunking ends when the peer closes;
- flow control: reading pauses while more than ``HIGH_WATER`` bytes wait unread;
- ``reusable`` after a complete response the server lets us keep (keep-alive).

A broken connection or malformed response surfaces as ``ConnectionBrokenError``; whether
anything of the response had arrived tells the caller whether a retry is safe.
"""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass
from typing import cast

import httptools

HIGH_WATER = 256 * 1024
LOW_WATER = 64 * 1024


class ConnectionBrokenError(Exception):
    """The connection closed or sent something that is not HTTP/1.1."""

    def __init__(self, reason: str, *, answered: bool) -> None:
        super().__init__(reason)
        #: Whether any byte of a response had arrived (if not, the request may be resent).
        self.answered = answered


@dataclass(frozen=True, slots=True)
class ResponseHead:
    """Status and headers (names lower-cased; a repeated header keeps its last value)."""

    status: int
    headers: dict[str, str]

    @property
    def content_length(self) -> int | None:
        """The declared body size, if any."""
        value = self.headers.get("content-length", "")
        return int(value) if value.isdigit() else None


class Http1Connection(asyncio.Protocol):
    """A client connection that runs one exchange at a time (``send``, ``head``, ``read``)."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self._parser = httptools.HttpResponseParser(self)
        self._loop = asyncio.get_running_loop()
        self._raw_headers: list[tuple[bytes, bytes]] = []
        self._head: asyncio.Future[ResponseHead] | None = None
        self._chunks: deque[bytes] = deque()
        self._buffered = 0
        self._waiter: asyncio.Future[None] | None = None
        self._answered = False
        self._informational = False
        self._until_close = False
        self._done = False
        self._error: ConnectionBrokenError | None = None
        self._paused = False
        self.closed = False
        self.reusable = False
        self.idle_since = 0.0

    # -- asyncio.Protocol --------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not ``asyncio.Transport`` subclasses, only alike.
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        self._answered = True
        try:
            self._parser.feed_data(data)
        except (httptools.HttpParserError, httptools.HttpParserUpgrade) as error:
            self._fail(f"malformed response ({type(error).__name__})")
            self.close()

    def eof_received(self) -> bool:
        return False  # close our side too; connection_lost follows

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.reusable = False
        if self._until_close and exc is None and self._head is not None and self._head.done():
            self._done = True  # a body without length or chunking ends with the connection
        elif self._head is not None and not self._done:
            self._fail("connection closed before the response ended")
        self._wake()

    # -- httptools callbacks -------------------------------------------------------------
    def on_message_begin(self) -> None:
        self._raw_headers = []

    def on_header(self, name: bytes, value: bytes) -> None:
        self._raw_headers.append((name, value))

    def on_headers_complete(self) -> None:
        status = self._parser.get_status_code()
        self._informational = status < 200  # "100 Continue" and friends: wait for the real one
        if self._informational or self._head is None or self._head.done():
            return
        headers = {
            name.decode("latin-1").lower(): value.decode("latin-1")
            for name, value in self._raw_headers
        }
        chunked = "chunked" in headers.get("transfer-encoding", "").lower()
        self._until_close = not chunked and "content-length" not in headers
        self._until_close &= status not in (204, 304)
        self._head.set_result(ResponseHead(status, headers))

    def on_body(self, body: bytes) -> None:
        self._chunks.append(body)
        self._buffered += len(body)
        if self._buffered > HIGH_WATER and not self._paused and self.transport is not None:
            self._paused = True
            self.transport.pause_reading()
        self._wake()

    def on_message_complete(self) -> None:
        if self._informational:
            self._informational = False
            return
        self._done = True
        self.reusable = self._parser.should_keep_alive()
        self._wake()

    # -- the exchange ----------------------------------------------------------------------
    def send(self, head: bytes, body: bytes) -> None:
        """Start an exchange: write the request (head, then body)."""
        assert self.transport is not None
        self._head = self._loop.create_future()
        self._chunks.clear()
        self._buffered = 0
        self._answered = self._done = self._until_close = self.reusable = False
        self._error = None
        self.transport.writelines((head, body))  # one writev

    async def head(self) -> ResponseHead:
        """The response's status and headers."""
        assert self._head is not None
        return await self._head

    async def read(self, wait_s: float | None = None) -> bytes:
        """All of the body that has arrived (waiting up to ``wait_s`` for some, None:
        unbounded), or ``b""`` at its end."""
        while not self._chunks:
            if self._done:
                return b""
            if self._error is not None:
                raise self._error
            self._waiter = self._loop.create_future()
            try:
                if wait_s is None:
                    await self._waiter
                else:
                    async with asyncio.timeout(wait_s):
                        await self._waiter
            finally:
                self._waiter = None
        if len(self._chunks) == 1:
            chunk = self._chunks.popleft()
        else:
            chunk = b"".join(self._chunks)
            self._chunks.clear()
        self._buffered -= len(chunk)
        if self._paused and self._buffered < LOW_WATER and self.transport is not None:
            self._paused = False
            self.transport.resume_reading()
        return chunk

    @property
    def open(self) -> bool:
        """Whether the connection is still up and not closing."""
        return not self.closed and self.transport is not None and not self.transport.is_closing()

    @property
    def finished(self) -> bool:
        """Whether the whole response has been read."""
        return self._done and not self._chunks

    def close(self) -> None:
        """Close the connection (it will not be reused)."""
        self.reusable = False
        if self.transport is not None:
            self.transport.close()

    # -- internals ---------------------------------------------------------------------------
    def _fail(self, reason: str) -> None:
        self._error = ConnectionBrokenError(reason, answered=self._answered)
        if self._head is not None and not self._head.done():
            self._head.set_exception(self._error)
            self._head.exception()  # retrieved here; ``head`` re-raises it
        self._wake()

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)
