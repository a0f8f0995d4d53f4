"""Direct OpenAI-protocol forwarding over httpx, for in-process ASGI apps.

The built-in replay server is an ASGI app served inside the router's own process;
``httpx.ASGITransport`` reaches it without a socket. Real network upstreams use
``router.upstream.http1_upstream`` (plain HTTP) and ``router.upstream.aiohttp_upstream``
(https) instead: over a socket httpx's client does several times fewer requests per
second here (``bench/http_clients.py``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx

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

_IN_PROCESS_BASE = "http://in-process/v1"


class HttpxUpstream:
    """Forwards to one ``httpx.AsyncClient`` (e.g. wired to an ASGI app)."""

    def __init__(self, client: httpx.AsyncClient, limits: ResponseLimits | None = None) -> None:
        self._client = client
        self.limits = limits or ResponseLimits()

    def _request(self, target: UpstreamTarget, endpoint: Endpoint, body: Payload) -> httpx.Request:
        url, payload, headers = request_parts(target, endpoint, body, base=_IN_PROCESS_BASE)
        timeout = httpx.Timeout(target.timeout_s, connect=target.connect_s)
        return self._client.build_request(
            "POST", url, content=payload, headers=headers, timeout=timeout
        )

    async def _send(self, target: UpstreamTarget, request: httpx.Request) -> httpx.Response:
        try:
            response = await self._client.send(request, stream=True)
        except httpx.TimeoutException:
            raise timeout_error(target) from None
        except httpx.HTTPError as error:
            raise unreachable_error(target, error) from None
        if response.status_code >= 400:
            try:
                content = await read_prefix(response.aiter_raw())
            finally:
                await response.aclose()
            raise body_error(
                target.model, response.status_code, content, response.headers, (target.api_key,)
            )
        return response

    async def complete(self, target: UpstreamTarget, endpoint: Endpoint, body: Payload) -> Payload:
        response = await self._send(target, self._request(target, endpoint, body))
        try:
            declared = response.headers.get("content-length")
            size = int(declared) if declared and declared.isdigit() else None
            content = await read_capped(
                response.aiter_bytes(), self.limits.max_body_bytes, target.model, size
            )
        except httpx.TimeoutException:
            raise timeout_error(target) from None
        except httpx.HTTPError as error:
            raise unreachable_error(target, error) from None
        finally:
            await response.aclose()
        return parse_json(content, target)

    async def stream(
        self, target: UpstreamTarget, endpoint: Endpoint, body: Payload
    ) -> AsyncIterator[ChunkBatch]:
        request = self._request(target, endpoint, {**body, "stream": True})
        response = await self._send(target, request)
        try:
            lines = split_lines(response.aiter_bytes(), self.limits.max_line_bytes, target.model)
            async for batch in sse_events(lines, target):
                yield batch
        except httpx.TimeoutException:
            raise timeout_error(target) from None
        except httpx.HTTPError as error:
            raise broken_stream_error(target, error) from None
        finally:
            await response.aclose()

    async def aclose(self) -> None:
        await self._client.aclose()
