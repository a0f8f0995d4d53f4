"""Direct OpenAI-protocol forwarding: plain ``http://`` upstreams over the router's own
pooled HTTP/1.1 client, everything else (``https://``) over aiohttp.

Local model servers (vLLM, llama.cpp, Ollama) usually sit behind plain HTTP on
loopback or a LAN, where the router's CPU per request is what a caller waits for;
the router's own client takes half to two thirds of aiohttp's CPU per call there.
Hosted APIs need TLS and answer in hundreds of milliseconds, so they keep aiohttp.
Timeouts, caps and errors are the same as ``AiohttpUpstream``'s: a whole call is bounded
by ``timeout_s``, opening the connection by ``connect_s``, each wait for a piece of a
non-streaming answer by ``first_byte_s`` and each wait within a stream by ``timeout_s``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from router.errors import UpstreamError, UpstreamResponseError
from router.upstream.aiohttp_upstream import AiohttpUpstream
from router.upstream.base import ChunkBatch, Endpoint, Payload, Upstream, UpstreamTarget
from router.upstream.content_coding import UnsupportedCodingError, decoded
from router.upstream.http1_conn import ConnectionBrokenError, Http1Connection, ResponseHead
from router.upstream.http1_pool import (
    ConnectFailedError,
    Http1Pool,
    Origin,
    plain_origin,
    request_head,
)
from router.upstream.limits import ResponseLimits, read_capped, read_prefix, split_lines
from router.upstream.status import body_error
from router.upstream.wire import (
    broken_stream_error,
    parse_json,
    request_parts,
    sse_events,
    timeout_error,
    unreachable_error,
    upstream_url,
)

#: What an exchange can fail with, before ``_translated`` makes it an ``UpstreamError``.
_FAILURES = (ConnectFailedError, ConnectionBrokenError, TimeoutError, UnsupportedCodingError)


async def _pieces(connection: Http1Connection, wait_s: float | None) -> AsyncIterator[bytes]:
    """The body as it arrives, each wait bounded by ``wait_s`` (None: by the caller)."""
    while chunk := await connection.read(wait_s):
        yield chunk


def _body(
    connection: Http1Connection, head: ResponseHead, wait_s: float | None
) -> AsyncIterator[bytes]:
    """The body, decoded from its content coding."""
    return decoded(_pieces(connection, wait_s), head.headers.get("content-encoding", ""))


def _translated(target: UpstreamTarget, error: Exception, started: bool = False) -> UpstreamError:
    """The ``UpstreamError`` for a failed exchange (``started``: a stream had relayed)."""
    if isinstance(error, TimeoutError):
        return timeout_error(target)
    if isinstance(error, UnsupportedCodingError):
        message = f"Model {target.model!r} sent a body the router cannot decode ({error})"
        return UpstreamResponseError(message)
    if started and isinstance(error, ConnectionBrokenError):
        return broken_stream_error(target, error)
    return unreachable_error(target, error)


class Http1Upstream:
    """Pooled plain-HTTP forwarding, with ``fallback`` (aiohttp) for other URLs."""

    def __init__(
        self,
        max_connections: int = 512,
        limits: ResponseLimits | None = None,
        fallback: Upstream | None = None,
    ) -> None:
        self.limits = limits or ResponseLimits()
        self._pool = Http1Pool(max_connections)
        self._fallback = fallback or AiohttpUpstream(max_connections, self.limits)

    def _request(
        self, target: UpstreamTarget, endpoint: Endpoint, body: Payload, origin: Origin
    ) -> tuple[bytes, bytes]:
        _, payload, headers = request_parts(target, endpoint, body)
        try:
            return request_head(origin, headers, len(payload)), payload
        except ValueError as error:
            raise unreachable_error(target, error) from None

    async def _error(
        self, connection: Http1Connection, head: ResponseHead, target: UpstreamTarget
    ) -> UpstreamError:
        try:
            content = await read_prefix(_body(connection, head, target.first_byte_s))
        except UnsupportedCodingError:
            content = b""  # unreadable text; the status and its headers still say what happened
        return body_error(target.model, head.status, content, head.headers, (target.api_key,))

    async def complete(self, target: UpstreamTarget, endpoint: Endpoint, body: Payload) -> Payload:
        origin = plain_origin(upstream_url(target, endpoint))
        if origin is None:
            return await self._fallback.complete(target, endpoint, body)
        request, payload = self._request(target, endpoint, body, origin)
        # Each wait needs its own bound only when it is tighter than the whole call's.
        wait_s = target.first_byte_s if target.first_byte_s < target.timeout_s else None
        try:
            async with asyncio.timeout(target.timeout_s):
                connection, head = await self._pool.exchange(
                    origin, request, payload, target.connect_s, wait_s
                )
                try:
                    if head.status >= 400:
                        raise await self._error(connection, head, target)
                    content = await read_capped(
                        _body(connection, head, wait_s),
                        self.limits.max_body_bytes,
                        target.model,
                        head.content_length,
                    )
                finally:
                    self._pool.release(connection, origin)
        except _FAILURES as error:
            raise _translated(target, error) from None
        return parse_json(content, target)

    async def stream(
        self, target: UpstreamTarget, endpoint: Endpoint, body: Payload
    ) -> AsyncIterator[ChunkBatch]:
        origin = plain_origin(upstream_url(target, endpoint))
        if origin is None:
            async for batch in self._fallback.stream(target, endpoint, body):
                yield batch
            return
        request, payload = self._request(target, endpoint, {**body, "stream": True}, origin)
        started = False
        try:
            connection, head = await self._pool.exchange(
                origin, request, payload, target.connect_s, target.timeout_s
            )
            try:
                if head.status >= 400:
                    raise await self._error(connection, head, target)
                lines = split_lines(
                    _body(connection, head, target.timeout_s),
                    self.limits.max_line_bytes,
                    target.model,
                )
                async for batch in sse_events(lines, target):
                    started = True
                    yield batch
            finally:
                self._pool.release(connection, origin)
        except _FAILURES as error:
            raise _translated(target, error, started) from None

    async def aclose(self) -> None:
        self._pool.close()
        await self._fallback.aclose()
