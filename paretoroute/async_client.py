"""The asynchronous client: the same methods as ``Client``, awaited.

Kept line for line parallel with ``client.py`` (a test compares their signatures); what
each call sends, how it retries and how answers parse live in the shared modules.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from types import TracebackType
from typing import Any, Literal, overload

import httpx

from paretoroute import _calls
from paretoroute._base import (
    DEFAULT_MAX_RETRIES,
    DEFAULT_TIMEOUT_S,
    auth_headers,
    resolve_base_url,
    routed,
)
from paretoroute._calls import Call, Messages
from paretoroute._retry import RetryPolicy, response_error, transport_error
from paretoroute.errors import ParetorouteError
from paretoroute.streaming import AsyncStream
from paretoroute.types import (
    ChatCompletion,
    ChatCompletionChunk,
    Completion,
    FeedbackResult,
    Health,
    ModelList,
    RouteDecision,
)

__all__ = ["AsyncClient"]


class AsyncClient:
    """A paretoroute server, called over HTTP (httpx), with asyncio.

    ``base_url`` is the server root (``$PARETOROUTE_BASE_URL``, default
    ``http://127.0.0.1:8000``); ``api_key`` is sent as a bearer token
    (``$PARETOROUTE_API_KEY``); ``timeout`` in seconds (or an ``httpx.Timeout``);
    ``max_retries`` for connection errors, 429 with ``retry-after`` and 502/503/504.
    Keyword arguments of ``chat``/``complete``/``route`` named like a ``RouterPreferences``
    field go in the body's ``router`` object; all others are OpenAI fields.
    """

    def __init__(
        self,
        base_url: str | None = None,
        api_key: str | None = None,
        *,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT_S,
        max_retries: int = DEFAULT_MAX_RETRIES,
    ) -> None:
        self.base_url = resolve_base_url(base_url)
        self.retry = RetryPolicy(max_retries=max_retries)
        self._http = httpx.AsyncClient(
            base_url=self.base_url, headers=auth_headers(api_key), timeout=timeout
        )

    @overload
    async def chat(
        self,
        messages: Messages,
        model: str = ...,
        *,
        profile: str | None = ...,
        stream: Literal[False] = ...,
        **fields: Any,
    ) -> ChatCompletion: ...

    @overload
    async def chat(
        self,
        messages: Messages,
        model: str = ...,
        *,
        profile: str | None = ...,
        stream: Literal[True],
        **fields: Any,
    ) -> AsyncStream[ChatCompletionChunk]: ...

    async def chat(
        self,
        messages: Messages,
        model: str = "auto",
        *,
        profile: str | None = None,
        stream: bool = False,
        **fields: Any,
    ) -> ChatCompletion | AsyncStream[ChatCompletionChunk]:
        """A chat completion; ``model``: ``auto``, ``auto:<profile>`` or a catalog model."""
        response = await self._send(_calls.chat_call(messages, model, profile, stream, fields))
        if stream:
            return AsyncStream(response, ChatCompletionChunk)
        return routed(ChatCompletion, response)

    @overload
    async def complete(
        self,
        prompt: str | Sequence[str],
        model: str = ...,
        *,
        profile: str | None = ...,
        stream: Literal[False] = ...,
        **fields: Any,
    ) -> Completion: ...

    @overload
    async def complete(
        self,
        prompt: str | Sequence[str],
        model: str = ...,
        *,
        profile: str | None = ...,
        stream: Literal[True],
        **fields: Any,
    ) -> AsyncStream[Completion]: ...

    async def complete(
        self,
        prompt: str | Sequence[str],
        model: str = "auto",
        *,
        profile: str | None = None,
        stream: bool = False,
        **fields: Any,
    ) -> Completion | AsyncStream[Completion]:
        """A legacy text completion, routed like ``chat``."""
        response = await self._send(_calls.completion_call(prompt, model, profile, stream, fields))
        if stream:
            return AsyncStream(response, Completion)
        return routed(Completion, response)

    async def route(
        self, messages: Messages, *, profile: str | None = None, **fields: Any
    ) -> RouteDecision:
        """The decision only (``POST /v1/route``): no model is called."""
        response = await self._send(_calls.route_call(messages, profile, fields))
        return RouteDecision.model_validate(response.json())

    async def models(self) -> ModelList:
        """``auto``, the ``auto:<profile>`` entries and every catalog model."""
        return ModelList.model_validate((await self._send(_calls.MODELS)).json())

    async def feedback(
        self,
        request_id: str,
        *,
        score: float | None = None,
        thumbs: Literal["up", "down"] | None = None,
        label: str | None = None,
        comment: str | None = None,
    ) -> FeedbackResult:
        """How the answer to ``request_id`` turned out: exactly one of score/thumbs/label."""
        call = _calls.feedback_call(request_id, score, thumbs, label, comment)
        return FeedbackResult.model_validate((await self._send(call)).json())

    async def health(self) -> Health:
        """Readiness; raises ``ServiceUnavailableError`` while the server is starting."""
        return Health.model_validate((await self._send(_calls.HEALTH)).json())

    async def _attempt(
        self, request: httpx.Request, stream: bool
    ) -> httpx.Response | ParetorouteError:
        try:
            response = await self._http.send(request, stream=stream)
        except httpx.TransportError as error:
            return transport_error(error, request)
        if response.is_success:
            return response
        await response.aread()
        await response.aclose()
        return response_error(response)

    async def _send(self, call: Call) -> httpx.Response:
        request = self._http.build_request(call.method, call.path, json=call.body)
        attempt = 0
        while True:
            outcome = await self._attempt(request, call.stream)
            if isinstance(outcome, httpx.Response):
                return outcome
            delay = self.retry.delay(attempt, outcome)
            if delay is None:
                raise outcome
            attempt += 1
            await asyncio.sleep(delay)

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
