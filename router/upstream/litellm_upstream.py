"""Forwarding through ``litellm.acompletion`` for providers that need translation.

Anthropic, Bedrock, Vertex, Together and the rest speak their own protocols; litellm
translates OpenAI requests to them and back. litellm is imported when this class is
constructed (at server start), never at import time, and its module-level switches are
set once there, not from request code.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from router.errors import UpstreamError, UpstreamTimeoutError
from router.upstream.base import Endpoint, Payload, UpstreamTarget
from router.upstream.fields import forwardable


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
        if isinstance(error, self._litellm.Timeout):
            return UpstreamTimeoutError(
                f"model {target.model!r} did not answer within {target.timeout_s:g} s"
            )
        status = getattr(error, "status_code", None)
        message = getattr(error, "message", None) or str(error)
        return UpstreamError(f"model {target.model!r} failed: {message}", upstream_status=status)

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
    ) -> AsyncIterator[Payload]:
        kwargs = self._kwargs(target, endpoint, {**body, "stream": True})
        try:
            response = await self._call(endpoint, kwargs)
            async for chunk in response:
                yield _dump(chunk)
        except UpstreamError:
            raise
        except Exception as error:
            raise self._translate(error, target) from None

    async def aclose(self) -> None:
        return None
