"""A small asyncio Redis client: RESP2 over one pipelined connection.

The limits make a handful of short Redis calls per request; a general-purpose client
spends ~0.2 ms of CPU on each, this one ~0.03 ms. Every call writes its command and
waits for its reply in order on one connection (concurrent calls are pipelined, and those
issued in the same loop iteration are written together; a call that is not ``urgent``
waits up to ``LAZY_FLUSH_S`` to leave with the next one, saving a write and a wake-up of
the server, and always before any later call). Replies are parsed as they arrive
(``parse_reply`` in the protocol's ``data_received``; no reader task). A broken
connection fails the calls in flight with ``RedisUnavailableError`` and is reopened on the next
call. Scripts run by ``EVALSHA``, loaded on first use and again after ``NOSCRIPT``.
URLs: ``redis://[[user]:password@]host[:port][/db]`` (no TLS).
"""

from __future__ import annotations

import asyncio
import hashlib
from collections import deque
from collections.abc import Iterable
from typing import Any, cast
from urllib.parse import unquote, urlsplit


class RedisUnavailableError(ConnectionError):
    """No connection to Redis, or it closed while a call was waiting."""


class RedisReplyError(Exception):
    """Redis answered with an error (``-ERR ...``)."""


#: What a call to Redis raises when Redis, not the caller, failed: the failure policies
#: (``Failsafe``, ``FallbackBreakerStore``) catch these.
REDIS_ERRORS: tuple[type[Exception], ...] = (RedisUnavailableError, RedisReplyError)


#: How long a call that is not urgent may wait for another to share its write.
LAZY_FLUSH_S = 0.002


def _bulks(parts: Iterable[object]) -> bytes:
    # One pass, no call per part: this runs for every command.
    datas = [
        part.encode() if type(part) is str else part if type(part) is bytes else str(part).encode()
        for part in parts
    ]
    return b"".join([b"$%d\r\n%s\r\n" % (len(data), data) for data in datas])


def encode(*parts: object) -> bytes:
    """One command as a RESP array of bulk strings."""
    return b"*%d\r\n" % len(parts) + _bulks(parts)


async def read_reply(reader: asyncio.StreamReader) -> Any:
    """One RESP2 reply: str, int, None, list, or a ``RedisReplyError`` value."""
    line = await reader.readuntil(b"\r\n")
    kind, rest = line[:1], line[1:-2]
    if kind == b"+":
        return rest.decode()
    if kind == b":":
        return int(rest)
    if kind == b"$":
        size = int(rest)
        if size < 0:
            return None
        return (await reader.readexactly(size + 2))[:-2].decode()
    if kind == b"*":
        count = int(rest)
        return None if count < 0 else [await read_reply(reader) for _ in range(count)]
    if kind == b"-":
        return RedisReplyError(rest.decode(errors="replace"))
    raise RedisUnavailableError(f"unexpected reply from Redis: {line[:40]!r}")


def parse_reply(buffer: bytes | bytearray, start: int = 0) -> tuple[Any, int] | None:
    """The RESP2 reply at ``buffer[start:]`` (as ``read_reply`` returns it) and where it
    ends, or None while it is incomplete."""
    end = buffer.find(b"\r\n", start)
    if end < 0:
        return None
    kind, rest, after = buffer[start], bytes(buffer[start + 1 : end]), end + 2
    if kind == 0x2B:  # +
        return rest.decode(), after
    if kind == 0x3A:  # :
        return int(rest), after
    if kind == 0x24:  # $
        size = int(rest)
        if size < 0:
            return None, after
        if len(buffer) < after + size + 2:
            return None
        return bytes(buffer[after : after + size]).decode(), after + size + 2
    if kind == 0x2A:  # *
        return _parse_array(buffer, int(rest), after)
    if kind == 0x2D:  # -
        return RedisReplyError(rest.decode(errors="replace")), after
    raise RedisUnavailableError(f"unexpected reply from Redis: {bytes(buffer[start:end])[:40]!r}")


def _parse_array(buffer: bytes | bytearray, count: int, start: int) -> tuple[Any, int] | None:
    if count < 0:
        return None, start
    items = []
    for _ in range(count):
        parsed = parse_reply(buffer, start)
        if parsed is None:
            return None
        item, start = parsed
        items.append(item)
    return items, start


class _Connection(asyncio.Protocol):
    """One connection: replies are parsed as they arrive (no reader task) and answer the
    oldest waiting call."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.waiting: deque[asyncio.Future[Any]] = deque()
        self._buffer = bytearray()
        self._lost = False
        self._outgoing: list[bytes] = []
        self._flush_soon = False
        self._flush_later: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        buffer, start = self._buffer, 0
        buffer += data
        try:
            while start < len(buffer):
                parsed = parse_reply(buffer, start)
                if parsed is None:
                    break
                reply, start = parsed
                future = self.waiting.popleft()
                if not future.done():
                    future.set_result(reply)
        except (RedisUnavailableError, IndexError, ValueError) as error:
            self.fail(RedisUnavailableError(f"Redis connection lost: {error!r}"))
            return
        del buffer[:start]

    def connection_lost(self, exc: Exception | None) -> None:
        self.fail(RedisUnavailableError(f"Redis connection lost: {exc!r}"))

    def fail(self, error: Exception) -> None:
        self._lost = True
        while self.waiting:
            future = self.waiting.popleft()
            if not future.done():
                future.set_exception(error)
        if self.transport is not None:
            self.transport.close()

    @property
    def broken(self) -> bool:
        return self._lost or self.transport is None or self.transport.is_closing()

    def send(self, command: bytes, urgent: bool = True) -> asyncio.Future[Any]:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        self.waiting.append(future)
        self._outgoing.append(command)
        if urgent and not self._flush_soon:
            # Commands issued in the same loop iteration leave in one write (one syscall),
            # after any lazy ones queued before them.
            self._flush_soon = True
            loop.call_soon(self._flush)
        elif not urgent and not self._flush_soon and self._flush_later is None:
            self._flush_later = loop.call_later(LAZY_FLUSH_S, self._flush)
        return future

    def _flush(self) -> None:
        if self._flush_later is not None:
            self._flush_later.cancel()
            self._flush_later = None
        self._flush_soon = False
        if not self._outgoing:
            return
        data, self._outgoing = b"".join(self._outgoing), []
        if self.transport is not None and not self.broken:
            self.transport.write(data)


class RespClient:
    """``call`` a command, ``script`` a Lua script; ``aclose`` at the end."""

    def __init__(self, url: str, connect_timeout_s: float = 1.0) -> None:
        parts = urlsplit(url)
        if parts.scheme != "redis":
            raise ValueError("only redis:// URLs are supported")
        self._host = parts.hostname or "127.0.0.1"
        self._port = parts.port or 6379
        self._username = unquote(parts.username) if parts.username else None
        self._password = unquote(parts.password) if parts.password else None
        path = parts.path.lstrip("/")
        self._db = int(path) if path else 0
        self._connect_timeout_s = connect_timeout_s
        self._connection: _Connection | None = None
        self._connecting: asyncio.Lock | None = None
        self._loaded: set[str] = set()
        #: script source → (sha1, the encoded ``EVALSHA sha`` head of its commands)
        self._heads: dict[str, tuple[str, bytes]] = {}

    async def _open(self) -> _Connection:
        try:
            async with asyncio.timeout(self._connect_timeout_s):
                loop = asyncio.get_running_loop()
                _, connection = await loop.create_connection(_Connection, self._host, self._port)
        except (OSError, TimeoutError) as error:
            raise RedisUnavailableError(
                f"cannot connect to Redis at {self._host}:{self._port}: {error!r}"
            ) from None
        setup = []
        if self._password is not None:
            auth = [self._username, self._password] if self._username else [self._password]
            setup.append(connection.send(encode("AUTH", *auth)))
        if self._db:
            setup.append(connection.send(encode("SELECT", self._db)))
        for reply in await asyncio.gather(*setup):
            if isinstance(reply, RedisReplyError):
                connection.fail(RedisUnavailableError("Redis refused AUTH/SELECT"))
                raise RedisUnavailableError("Redis refused AUTH/SELECT")
        self._loaded.clear()
        return connection

    async def _live(self) -> _Connection:
        if self._connection is not None and not self._connection.broken:
            return self._connection
        self._connecting = self._connecting or asyncio.Lock()
        async with self._connecting:
            if self._connection is None or self._connection.broken:
                self._connection = await self._open()
            return self._connection

    async def call(self, *parts: object) -> Any:
        """Run one command; a Redis error reply raises ``RedisReplyError``."""
        return await self._send(encode(*parts))

    async def _send(self, command: bytes, urgent: bool = True) -> Any:
        connection = await self._live()
        reply = await connection.send(command, urgent)
        if isinstance(reply, RedisReplyError):
            raise reply
        return reply

    async def script(
        self, source: str, keys: list[str], args: list[object], *, urgent: bool = True
    ) -> Any:
        """``EVALSHA`` the script, loading it first if this connection has not; a call
        that is not ``urgent`` may wait a moment to share a write (``LAZY_FLUSH_S``)."""
        head = self._heads.get(source)
        if head is None:
            sha = hashlib.sha1(source.encode()).hexdigest()
            head = self._heads[source] = (sha, _bulks(("EVALSHA", sha)))
        sha, evalsha = head
        if sha not in self._loaded:
            await self.call("SCRIPT", "LOAD", source)
            self._loaded.add(sha)
        parts = [len(keys), *keys, *args]
        command = b"*%d\r\n" % (len(parts) + 2) + evalsha + _bulks(parts)
        try:
            return await self._send(command, urgent)
        except RedisReplyError as error:
            if not str(error).startswith("NOSCRIPT"):
                raise
            await self.call("SCRIPT", "LOAD", source)
            return await self._send(command, urgent)

    async def aclose(self) -> None:
        """Close the connection."""
        connection, self._connection = self._connection, None
        if connection is not None:
            connection.fail(RedisUnavailableError("client closed"))
