"""Direct OpenAI-protocol forwarding over httpx, for in-process ASGI apps.

The built-in replay server is an ASGI app served inside the router's own process;
``httpx.ASGITransport`` reaches it without a socket. Real network upstreams use
``router.upstream.aiohttp_upstream`` instead: on this machine aiohttp's client does
about 4x (one at a time) to 25x (32 concurrent) the requests per second of httpx's
(see BENCHMARKS.md).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx

from router.errors import UpstreamError
from router.upstream.base import Endpoint, Payload, UpstreamTarget
from router.upstream.wire import (
    is_data,
    is_done,
    parse_json,
    request_parts,
    sse_payload,
    status_error,
    timeout_error,
    unreachable_error,
)

_IN_PROCESS_BASE = "http://in-process/v1"


class HttpxUpstream:
    """Forwards to one ``httpx.AsyncClient`` (e.g. wired to an ASGI app)."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self._client = client

    def _request(self, target: UpstreamTarget, endpoint: Endpoint, body: Payload) -> httpx.Request:
        url, payload, headers = request_parts(target, endpoint, body, base=_IN_PROCESS_BASE)
        timeout = httpx.Timeout(target.timeout_s, connect=min(10.0, target.timeout_s))
        return self._client.build_request(
            "POST", url, content=payload, headers=headers, timeout=timeout
        )

    async def complete(self, target: UpstreamTarget, endpoint: Endpoint, body: Payload) -> Payload:
        try:
            response = await self._client.send(self._request(target, endpoint, body))
        except httpx.TimeoutException:
            raise timeout_error(target) from None
        except httpx.HTTPError as error:
            raise unreachable_error(target, error) from None
        if response.status_code >= 400:
            raise status_error(response.content, response.status_code)
        return parse_json(response.content, target)

    async def stream(
        self, target: UpstreamTarget, endpoint: Endpoint, body: Payload
    ) -> AsyncIterator[Payload]:
        request = self._request(target, endpoint, {**body, "stream": True})
        try:
            response = await self._client.send(request, stream=True)
        except httpx.TimeoutException:
            raise timeout_error(target) from None
        except httpx.HTTPError as error:
            raise unreachable_error(target, error) from None
        try:
            if response.status_code >= 400:
                raise status_error(await response.aread(), response.status_code)
            async for line in response.aiter_lines():
                raw = line.encode()
                if is_data(raw):
                    if is_done(raw):
                        return
                    yield sse_payload(raw, target)
        except httpx.TimeoutException:
            raise timeout_error(target) from None
        except httpx.HTTPError as error:
            raise UpstreamError(f"stream from model {target.model!r} broke: {error}") from None
        finally:
            await response.aclose()

    async def aclose(self) -> None:
        await self._client.aclose()
