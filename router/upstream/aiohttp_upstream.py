"""Direct forwarding over aiohttp to ``https://`` servers that speak the OpenAI protocol.

OpenAI itself and hosted OpenAI-compatible APIs need no translation, so the request body
goes out as-is (minus the router's own fields) and the stream is relayed as it arrives.
This skips litellm's per-call work (about 4 ms per call and 14 ms per stream here, see
BENCHMARKS.md); providers that need translation go through
``router.upstream.litellm_upstream``, and plain ``http://`` servers (local vLLM,
llama.cpp, Ollama) the router's own client, ``router.upstream.http1_upstream``, which
hands anything else to this class.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp

from router.errors import UpstreamError
from router.upstream.base import ChunkBatch, Endpoint, Payload, UpstreamTarget
from router.upstream.limits import ResponseLimits, read_capped, read_prefix, split_lines
from router.upstream.status import body_error
from router.upstream.wire import (
    broken_stream_error,
    parse_json,
    request_parts,
    sse_events,
    timeout_error,
    unreachable_error,
)

_CHUNK = 64 * 1024


class AiohttpUpstream:
    """One pooled ``aiohttp.ClientSession`` (created on first use, inside the loop)."""

    def __init__(self, max_connections: int = 512, limits: ResponseLimits | None = None) -> None:
        self.max_connections = max_connections
        self.limits = limits or ResponseLimits()
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=self.max_connections, ttl_dns_cache=300)
            self._session = aiohttp.ClientSession(connector=connector, auto_decompress=True)
        return self._session

    async def _error(
        self, response: aiohttp.ClientResponse, target: UpstreamTarget
    ) -> UpstreamError:
        content = await read_prefix(response.content.iter_chunked(_CHUNK))
        return body_error(
            target.model, response.status, content, response.headers, (target.api_key,)
        )

    async def complete(self, target: UpstreamTarget, endpoint: Endpoint, body: Payload) -> Payload:
        url, payload, headers = request_parts(target, endpoint, body)
        timeout = aiohttp.ClientTimeout(
            total=target.timeout_s, sock_connect=target.connect_s, sock_read=target.first_byte_s
        )
        limit = self.limits.max_body_bytes
        try:
            async with self._client().post(
                url, data=payload, headers=headers, timeout=timeout
            ) as response:
                if response.status >= 400:
                    raise await self._error(response, target)
                chunks = response.content.iter_chunked(_CHUNK)
                content = await read_capped(chunks, limit, target.model, response.content_length)
        except aiohttp.ConnectionTimeoutError as error:
            raise unreachable_error(target, error) from None
        except TimeoutError:
            raise timeout_error(target) from None
        except aiohttp.ClientError as error:
            raise unreachable_error(target, error) from None
        return parse_json(content, target)

    async def stream(
        self, target: UpstreamTarget, endpoint: Endpoint, body: Payload
    ) -> AsyncIterator[ChunkBatch]:
        url, payload, headers = request_parts(target, endpoint, {**body, "stream": True})
        # A stream may run long: bound the wait for each piece, not the whole.
        timeout = aiohttp.ClientTimeout(sock_connect=target.connect_s, sock_read=target.timeout_s)
        started = False
        try:
            async with self._client().post(
                url, data=payload, headers=headers, timeout=timeout
            ) as response:
                if response.status >= 400:
                    raise await self._error(response, target)
                lines = split_lines(
                    response.content.iter_any(), self.limits.max_line_bytes, target.model
                )
                async for batch in sse_events(lines, target):
                    started = True
                    yield batch
        except aiohttp.ConnectionTimeoutError as error:
            raise unreachable_error(target, error) from None
        except TimeoutError:
            raise timeout_error(target) from None
        except aiohttp.ClientError as error:
            if started:
                raise broken_stream_error(target, error) from None
            raise unreachable_error(target, error) from None

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
