"""Pooled keep-alive HTTP/1.1 connections to plain-``http://`` upstreams.

``Http1Pool.exchange`` sends one POST and returns the connection with the response head;
the caller reads the body and hands the connection back with ``release``, which keeps it
for the next request when the response was read whole and the server allows keep-alive.
At most ``max_connections`` exchanges run at once (others wait), like aiohttp's
connector limit.

A kept connection that the server closed in the meantime (its idle timeout) fails
before any byte of an answer arrives; the server never read that request, so it is sent
once more, on a new connection. A server that read a request and then died without a
byte of answer looks the same and gets the request twice: for a local model server that
costs compute, not money (hosted APIs use https, which this client does not serve). A
request on a new connection is never sent twice.
"""

from __future__ import annotations

import asyncio
import re
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urlsplit

from router.upstream.http1_conn import ConnectionBrokenError, Http1Connection, ResponseHead

#: A header name is an RFC 9110 token; a value may not break the header block.
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_BREAKS = re.compile(r"[\r\n\x00]")


class ConnectFailedError(Exception):
    """No connection could be opened (refused, unresolvable, or past the connect timeout)."""


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a plain-HTTP request goes: the address to connect to and the request line."""

    host: str
    port: int
    authority: str
    target: str


@lru_cache(maxsize=1024)
def plain_origin(url: str) -> Origin | None:
    """The ``Origin`` of an ``http://`` URL; None for anything else (https, credentials
    in the URL, a bad port), which goes through aiohttp instead."""
    parts = urlsplit(url)
    if parts.scheme != "http" or not parts.hostname or "@" in parts.netloc:
        return None
    try:
        port = parts.port or 80
    except ValueError:
        return None
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Origin(parts.hostname, port, parts.netloc, target)


def request_head(origin: Origin, headers: Mapping[str, str], length: int) -> bytes:
    """The request line and headers of a POST; ``ValueError`` for a header that would
    not survive on the wire (a name that is not a token, a value with CR, LF or NUL)."""
    lines = [f"POST {origin.target} HTTP/1.1", f"host: {origin.authority}"]
    for name, value in headers.items():
        if not _TOKEN.fullmatch(name) or _BREAKS.search(value):
            raise ValueError(f"header {name[:40]!r} cannot be sent")
        lines.append(f"{name}: {value}")
    lines += ["accept-encoding: identity", f"content-length: {length}", "", ""]
    return "\r\n".join(lines).encode("utf-8")


async def _answer(
    connection: Http1Connection, head: bytes, body: bytes, head_s: float | None
) -> ResponseHead:
    """Send the request on ``connection`` and wait for the response head; the connection
    is closed if that fails."""
    connection.send(head, body)
    try:
        if head_s is None:
            return await connection.head()
        async with asyncio.timeout(head_s):
            return await connection.head()
    except BaseException:
        connection.close()
        raise


class Http1Pool:
    """Idle connections per (host, port), and a cap on exchanges in flight."""

    def __init__(self, max_connections: int = 512, idle_s: float = 15.0) -> None:
        self.max_connections = max_connections
        self.idle_s = idle_s
        self._idle: dict[tuple[str, int], list[Http1Connection]] = {}
        self._gate = asyncio.Semaphore(max_connections)
        self._loop: asyncio.AbstractEventLoop | None = None

    async def exchange(
        self, origin: Origin, head: bytes, body: bytes, connect_s: float, head_s: float | None
    ) -> tuple[Http1Connection, ResponseHead]:
        """Send one request; the connection and the response head. Raises
        ``ConnectFailedError``, ``ConnectionBrokenError`` or ``TimeoutError`` (no head within
        ``head_s``; None: the caller bounds the wait)."""
        self._bind()
        await self._gate.acquire()
        try:
            return await self._send(origin, head, body, connect_s, head_s)
        except BaseException:
            self._gate.release()
            raise

    def release(self, connection: Http1Connection, origin: Origin) -> None:
        """End an exchange: keep the connection if it can carry another, else close it."""
        self._gate.release()
        if connection.reusable and connection.finished:  # a closed one is not reusable
            connection.idle_since = asyncio.get_running_loop().time()
            self._idle.setdefault((origin.host, origin.port), []).append(connection)
        else:
            connection.close()

    def close(self) -> None:
        """Close every idle connection."""
        for idle in self._idle.values():
            for connection in idle:
                connection.close()
        self._idle.clear()

    async def _send(
        self, origin: Origin, head: bytes, body: bytes, connect_s: float, head_s: float | None
    ) -> tuple[Http1Connection, ResponseHead]:
        connection, reused = await self._acquire(origin, connect_s)
        try:
            return connection, await _answer(connection, head, body, head_s)
        except ConnectionBrokenError as error:
            if not reused or error.answered:
                raise
        connection = await self._connect(origin, connect_s)  # the kept one was stale
        return connection, await _answer(connection, head, body, head_s)

    async def _acquire(self, origin: Origin, connect_s: float) -> tuple[Http1Connection, bool]:
        idle = self._idle.get((origin.host, origin.port))
        now = asyncio.get_running_loop().time()
        while idle:
            connection = idle.pop()
            fresh = now - connection.idle_since < self.idle_s
            if fresh and connection.open:
                return connection, True
            connection.close()
        return await self._connect(origin, connect_s), False

    async def _connect(self, origin: Origin, connect_s: float) -> Http1Connection:
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(connect_s):
                transport, connection = await loop.create_connection(
                    Http1Connection, origin.host, origin.port
                )
        except (OSError, TimeoutError) as error:
            raise ConnectFailedError(type(error).__name__) from None
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return connection

    def _bind(self) -> None:
        """Connections and the gate belong to one event loop; a new loop starts afresh."""
        loop = asyncio.get_running_loop()
        if loop is not self._loop:
            self._loop = loop
            self._idle.clear()
            self._gate = asyncio.Semaphore(self.max_connections)
