"""Direct forwarding to servers that speak the OpenAI protocol natively, over httpx.

OpenAI itself, vLLM, llama.cpp, Ollama's ``/v1`` and the built-in replay server need no
translation, so the request body goes out as-is (minus the router's own fields) and
the stream is relayed chunk by chunk. This skips litellm's per-call work, which
``bench/overhead.py`` measures; providers that need translation go through
``router.upstream.litellm_upstream`` instead.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any

import httpx
import orjson

from router.errors import UpstreamError, UpstreamTimeoutError
from router.upstream.base import Endpoint, Payload, UpstreamTarget

_PATHS: dict[Endpoint, str] = {"chat": "/chat/completions", "text": "/completions"}
OPENAI_API_BASE = "https://api.openai.com/v1"


def wire_model(litellm_model: str) -> str:
    """The model id the upstream server expects: the litellm string minus its provider."""
    return litellm_model.split("/", 1)[1] if "/" in litellm_model else litellm_model


def _error_message(response_body: bytes, status: int) -> str:
    try:
        parsed = orjson.loads(response_body)
    except orjson.JSONDecodeError:
        text = response_body.decode(errors="replace").strip()
        return f"upstream returned HTTP {status}: {text[:500]}"
    if isinstance(parsed, Mapping):
        error = parsed.get("error")
        if isinstance(error, Mapping) and error.get("message"):
            return f"upstream returned HTTP {status}: {error['message']}"
        if isinstance(error, str):
            return f"upstream returned HTTP {status}: {error}"
    return f"upstream returned HTTP {status}"


class OpenAIHttpUpstream:
    """Forwards to ``{api_base}/chat/completions`` with one pooled ``httpx.AsyncClient``.

    ``clients`` maps special ``api_base`` values (e.g. ``builtin:replay``) to their own
    client, such as one wired to an in-process ASGI app.
    """

    def __init__(
        self,
        client: httpx.AsyncClient | None = None,
        *,
        clients: Mapping[str, httpx.AsyncClient] | None = None,
    ) -> None:
        limits = httpx.Limits(max_connections=512, max_keepalive_connections=128)
        self._client = client or httpx.AsyncClient(limits=limits, timeout=None)
        self._special = dict(clients or {})

    def _request(self, target: UpstreamTarget, endpoint: Endpoint, body: Payload) -> httpx.Request:
        client = self._client_for(target)
        base = target.api_base if target.api_base not in self._special else "http://builtin/v1"
        url = (base or OPENAI_API_BASE).rstrip("/") + _PATHS[endpoint]
        headers = {"content-type": "application/json", **dict(target.headers)}
        if target.api_key:
            headers["authorization"] = f"Bearer {target.api_key}"
        payload = {**body, "model": wire_model(target.litellm_model)}
        timeout = httpx.Timeout(target.timeout_s, connect=min(10.0, target.timeout_s))
        return client.build_request(
            "POST", url, content=orjson.dumps(payload), headers=headers, timeout=timeout
        )

    def _client_for(self, target: UpstreamTarget) -> httpx.AsyncClient:
        return self._special.get(target.api_base or "", self._client)

    async def complete(self, target: UpstreamTarget, endpoint: Endpoint, body: Payload) -> Payload:
        request = self._request(target, endpoint, body)
        try:
            response = await self._client_for(target).send(request)
        except httpx.TimeoutException:
            raise UpstreamTimeoutError(
                f"model {target.model!r} did not answer within {target.timeout_s:g} s"
            ) from None
        except httpx.HTTPError as error:
            raise UpstreamError(f"cannot reach model {target.model!r}: {error}") from None
        if response.status_code >= 400:
            raise UpstreamError(
                _error_message(response.content, response.status_code),
                upstream_status=response.status_code,
            )
        return _parse_json(response.content, target)

    async def stream(
        self, target: UpstreamTarget, endpoint: Endpoint, body: Payload
    ) -> AsyncIterator[Payload]:
        request = self._request(target, endpoint, {**body, "stream": True})
        try:
            response = await self._client_for(target).send(request, stream=True)
        except httpx.TimeoutException:
            raise UpstreamTimeoutError(
                f"model {target.model!r} did not answer within {target.timeout_s:g} s"
            ) from None
        except httpx.HTTPError as error:
            raise UpstreamError(f"cannot reach model {target.model!r}: {error}") from None
        try:
            if response.status_code >= 400:
                content = await response.aread()
                raise UpstreamError(
                    _error_message(content, response.status_code),
                    upstream_status=response.status_code,
                )
            async for chunk in _sse_payloads(response, target):
                yield chunk
        except httpx.TimeoutException:
            raise UpstreamTimeoutError(
                f"model {target.model!r} stalled for more than {target.timeout_s:g} s"
            ) from None
        except httpx.HTTPError as error:
            raise UpstreamError(f"stream from model {target.model!r} broke: {error}") from None
        finally:
            await response.aclose()

    async def aclose(self) -> None:
        await self._client.aclose()
        for client in self._special.values():
            await client.aclose()


def _parse_json(content: bytes, target: UpstreamTarget) -> Payload:
    try:
        parsed: Any = orjson.loads(content)
    except orjson.JSONDecodeError:
        raise UpstreamError(f"model {target.model!r} returned a body that is not JSON") from None
    if not isinstance(parsed, dict):
        raise UpstreamError(f"model {target.model!r} returned a non-object JSON body")
    return parsed


async def _sse_payloads(response: httpx.Response, target: UpstreamTarget) -> AsyncIterator[Payload]:
    async for line in response.aiter_lines():
        if not line.startswith("data:"):
            continue
        data = line[5:].strip()
        if data == "[DONE]":
            return
        chunk = _parse_json(data.encode(), target)
        if "error" in chunk and "choices" not in chunk:
            raise UpstreamError(_error_message(data.encode(), 200))
        yield chunk
