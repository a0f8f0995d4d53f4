"""Forwarding through ``litellm.acompletion`` for providers that need translation.

Anthropic, Bedrock, Vertex, Together and the rest speak their own protocols; litellm
translates OpenAI requests to them and back. litellm is imported when this class is
constructed (at server start), never at import time, and its module-level switches are
set once there, not from request code.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

from router.errors import UpstreamError
from router.upstream.base import ChunkBatch, Endpoint, Payload, UpstreamTarget
from router.upstream.fields import forwardable
from router.upstream.status import status_error
from router.upstream.wire import timeout_error, unreachable_error

#: litellm prefixes messages with its exception class and the provider's ("OpenAIException").
_LITELLM_PREFIX = re.compile(r"^(litellm\.\w+:\s*)?(\w+Exception\s*-\s*)?")


#: Exceptions (by name, across openai, httpx, aiohttp) meaning "no connection was made
#: or it broke". litellm re-wraps them as a 500 ``InternalServerError``.
_CONNECTION_ERRORS = frozenset(
    {
        "APIConnectionError",
        "ConnectError",
        "RemoteProtocolError",
        "ReadError",
        "ConnectionError",
        "ConnectionRefusedError",
        "ConnectionResetError",
        "ClientConnectorError",
        "ServerDisconnectedError",
    }
)


def _connection_failure(error: BaseException) -> bool:
    """True when a connection error is anywhere in ``error``'s chain of causes."""
    seen: BaseException | None = error
    for _ in range(10):
        if seen is None:
            return False
        if type(seen).__name__ in _CONNECTION_ERRORS:
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _retry_after(error: Exception) -> str | None:
    """The ``retry-after`` header of the provider response behind a litellm exception."""
    response = getattr(error, "response", None)
    headers = getattr(response, "headers", None)
    if headers is None:
        return None
    try:
        value = headers.get("retry-after")
    except Exception:  # litellm sometimes attaches a placeholder response object
        return None
    return value if isinstance(value, str) else None


def _dump(obj: Any) -> Payload:
    if isinstance(obj, dict):
        return obj
    dumped: Payload = obj.model_dump(exclude_none=True)
    return dumped


class LiteLLMUpstream:
    """Calls ``litellm.acompletion`` / ``litellm.atext_completion``."""

    def __init__(self) -> None:
        # LITELLM_LOCAL_MODEL_COST_MAP is set at process start (router.process).
        import litellm

        litellm.telemetry = False
        self._litellm = litellm

    def _kwargs(self, target: UpstreamTarget, endpoint: Endpoint, body: Payload) -> dict[str, Any]:
        # Only OpenAI fields: everything else in **kwargs steers litellm itself.
        kwargs = forwardable(body, endpoint, translated=True)
        kwargs.update(model=target.litellm_model, timeout=target.timeout_s, num_retries=0)
        if target.api_base:
            kwargs["api_base"] = target.api_base
        if target.api_key:
            kwargs["api_key"] = target.api_key
        if target.headers:
            kwargs["extra_headers"] = dict(target.headers)
        return kwargs

    def _translate(self, error: Exception, target: UpstreamTarget) -> UpstreamError:
        """One router error per litellm exception; never its traceback or addresses."""
        if isinstance(error, UpstreamError):
            return error
        if isinstance(error, self._litellm.Timeout):
            return timeout_error(target)
        if isinstance(error, self._litellm.APIConnectionError) or _connection_failure(error):
            return unreachable_error(target, error)
        status = getattr(error, "status_code", None)
        if not isinstance(status, int) or status < 400:
            status = 502
        message = _LITELLM_PREFIX.sub("", getattr(error, "message", None) or str(error))
        return status_error(
            target.model,
            status,
            message,
            retry_after=_retry_after(error),
            secrets=(target.api_key,),
        )

    async def _call(self, endpoint: Endpoint, kwargs: dict[str, Any]) -> Any:
        if endpoint == "chat":
            return await self._litellm.acompletion(**kwargs)
        return await self._litellm.atext_completion(**kwargs)

    async def complete(self, target: UpstreamTarget, endpoint: Endpoint, body: Payload) -> Payload:
        try:
            response = await self._call(endpoint, self._kwargs(target, endpoint, body))
        except Exception as error:  # litellm raises many provider-specific types
            raise self._translate(error, target) from None
        return _dump(response)

    async def stream(
        self, target: UpstreamTarget, endpoint: Endpoint, body: Payload
    ) -> AsyncIterator[ChunkBatch]:
        kwargs = self._kwargs(target, endpoint, {**body, "stream": True})
        try:
            response = await self._call(endpoint, kwargs)
            async for chunk in response:
                yield [_dump(chunk)]  # litellm hands chunks on one at a time
        except Exception as error:
            raise self._translate(error, target) from None

    async def aclose(self) -> None:
        return None
