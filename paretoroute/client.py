"""The synchronous client."""

from __future__ import annotations

import time
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
from paretoroute.streaming import Stream
from paretoroute.types import (
    ChatCompletion,
    ChatCompletionChunk,
    Completion,
    FeedbackResult,
    Health,
    ModelList,
    RouteDecision,
)

__all__ = ["Client"]


class Client:
    """A paretoroute server, called over HTTP (httpx), blocking.

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
        self._http = httpx.Client(
            base_url=self.base_url, headers=auth_headers(api_key), timeout=timeout
        )

    @overload
    def chat(
        self,
        messages: Messages,
        model: str = ...,
        *,
        profile: str | None = ...,
        stream: Literal[False] = ...,
        **fields: Any,
    ) -> ChatCompletion: ...

    @overload
    def chat(
        self,
        messages: Messages,
        model: str = ...,
        *,
        profile: str | None = ...,
        stream: Literal[True],
        **fields: Any,
    ) -> Stream[ChatCompletionChunk]: ...

    def chat(
        self,
        messages: Messages,
        model: str = "auto",
        *,
        profile: str | None = None,
        stream: bool = False,
        **fields: Any,
    ) -> ChatCompletion | Stream[ChatCompletionChunk]:
        """A chat completion; ``model``: ``auto``, ``auto:<profile>`` or a catalog model."""
        response = self._send(_calls.chat_call(messages, model, profile, stream, fields))
        if stream:
            return Stream(response, ChatCompletionChunk)
        return routed(ChatCompletion, response)

    @overload
    def complete(
        self,
        prompt: str | Sequence[str],
        model: str = ...,
        *,
        profile: str | None = ...,
        stream: Literal[False] = ...,
        **fields: Any,
    ) -> Completion: ...

    @overload
    def complete(
        self,
        prompt: str | Sequence[str],
        model: str = ...,
        *,
        profile: str | None = ...,
        stream: Literal[True],
        **fields: Any,
    ) -> Stream[Completion]: ...

    def complete(
        self,
        prompt: str | Sequence[str],
        model: str = "auto",
        *,
        profile: str | None = None,
        stream: bool = False,
        **fields: Any,
    ) -> Completion | Stream[Completion]:
        """A legacy text completion, routed like ``chat``."""
        response = self._send(_calls.completion_call(prompt, model, profile, stream, fields))
        if stream:
            return Stream(response, Completion)
        return routed(Completion, response)

    def route(
        self, messages: Messages, *, profile: str | None = None, **fields: Any
    ) -> RouteDecision:
        """The decision only (``POST /v1/route``): no model is called."""
        response = self._send(_calls.route_call(messages, profile, fields))
        return RouteDecision.model_validate(response.json())

    def models(self) -> ModelList:
        """``auto``, the ``auto:<profile>`` entries and every catalog model."""
        return ModelList.model_validate(self._send(_calls.MODELS).json())

    def feedback(
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
        return FeedbackResult.model_validate(self._send(call).json())

    def health(self) -> Health:
        """Readiness; raises ``ServiceUnavailableError`` while the server is starting."""
        return Health.model_validate(self._send(_calls.HEALTH).json())

    def _attempt(self, request: httpx.Request, stream: bool) -> httpx.Response | ParetorouteError:
        try:
            response = self._http.send(request, stream=stream)
        except httpx.TransportError as error:
            return transport_error(error, request)
        if response.is_success:
            return response
        response.read()
        response.close()
        return response_error(response)

    def _send(self, call: Call) -> httpx.Response:
        request = self._http.build_request(call.method, call.path, json=call.body)
        attempt = 0
        while True:
            outcome = self._attempt(request, call.stream)
            if isinstance(outcome, httpx.Response):
                return outcome
            delay = self.retry.delay(attempt, outcome)
            if delay is None:
                raise outcome
            attempt += 1
            time.sleep(delay)

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
