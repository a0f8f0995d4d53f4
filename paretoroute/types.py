"""Typed results: OpenAI-shaped bodies plus the router's decision from the response headers.

Every OpenAI-shaped model allows extra fields, so whatever an upstream adds
(``system_fingerprint``, ``logprobs``, tool calls, ...) is kept and readable as an
attribute. ``routing`` is not part of the body: it is read from the ``x-paretoroute-*``
headers and excluded from ``model_dump()``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "ChatChoice",
    "ChatCompletion",
    "ChatCompletionChunk",
    "ChatCompletionMessage",
    "ChoiceDelta",
    "ChunkChoice",
    "Completion",
    "CompletionChoice",
    "FeedbackResult",
    "Health",
    "Model",
    "ModelList",
    "ModelScore",
    "RouteDecision",
    "RoutedResult",
    "Routing",
    "Usage",
]

_HEADER = "x-paretoroute-"


def _float(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


class Routing(BaseModel):
    """The router's decision for one served request (from the response headers)."""

    model_config = ConfigDict(frozen=True)

    #: The model that served the request.
    model: str | None = None
    #: The profile applied (absent when a model was named directly).
    profile: str | None = None
    decision_ms: float | None = None
    predicted_cost_usd: float | None = None
    #: Pass this to ``feedback()``.
    request_id: str | None = None
    #: Why the router fell back (no model met the constraints), else None.
    fallback: str | None = None

    @property
    def fell_back(self) -> bool:
        """True when no model met the constraints and the closest one was used."""
        return self.fallback is not None

    @classmethod
    def from_headers(cls, headers: Mapping[str, str]) -> Routing:
        """Read the ``x-paretoroute-*`` headers (names are case-insensitive in httpx)."""
        return cls(
            model=headers.get(_HEADER + "model"),
            profile=headers.get(_HEADER + "profile"),
            decision_ms=_float(headers.get(_HEADER + "decision-ms")),
            predicted_cost_usd=_float(headers.get(_HEADER + "predicted-cost-usd")),
            request_id=headers.get(_HEADER + "request-id"),
            fallback=headers.get(_HEADER + "fallback"),
        )


class _OpenAIObject(BaseModel):
    model_config = ConfigDict(extra="allow")


class RoutedResult(_OpenAIObject):
    """A response body that came with the router's decision in its headers."""

    routing: Routing = Field(default_factory=Routing, exclude=True)


class Usage(_OpenAIObject):
    """Token counts of one request."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0


class ChatCompletionMessage(_OpenAIObject):
    """The assistant's message (``tool_calls`` and friends stay as extra fields)."""

    role: str = "assistant"
    content: str | None = None


class ChatChoice(_OpenAIObject):
    """One choice of a chat completion."""

    index: int = 0
    message: ChatCompletionMessage
    finish_reason: str | None = None


class ChatCompletion(RoutedResult):
    """``POST /v1/chat/completions`` (non-streaming), with ``.routing``."""

    id: str
    object: str = "chat.completion"
    created: int = 0
    model: str
    choices: list[ChatChoice]
    usage: Usage | None = None


class ChoiceDelta(_OpenAIObject):
    """The new part of the message in one stream chunk."""

    role: str | None = None
    content: str | None = None


class ChunkChoice(_OpenAIObject):
    """One choice of a stream chunk."""

    index: int = 0
    delta: ChoiceDelta = Field(default_factory=ChoiceDelta)
    finish_reason: str | None = None


class ChatCompletionChunk(RoutedResult):
    """One SSE chunk of a streamed chat completion, with ``.routing``."""

    id: str
    object: str = "chat.completion.chunk"
    created: int = 0
    model: str
    choices: list[ChunkChoice] = Field(default_factory=list)
    usage: Usage | None = None


class CompletionChoice(_OpenAIObject):
    """One choice of a legacy text completion."""

    index: int = 0
    text: str = ""
    finish_reason: str | None = None


class Completion(RoutedResult):
    """``POST /v1/completions`` (or one streamed chunk of it), with ``.routing``."""

    id: str
    object: str = "text_completion"
    created: int = 0
    model: str
    choices: list[CompletionChoice] = Field(default_factory=list)
    usage: Usage | None = None


class ModelScore(_OpenAIObject):
    """One catalog model's row in a routing decision."""

    model: str
    predicted_quality: float
    predicted_cost_usd: float
    predicted_runtime_s: float
    feasible: bool
    on_pareto_front: bool
    infeasible_reason: str | None = None


class RouteDecision(_OpenAIObject):
    """``POST /v1/route``: the model ``auto`` would pick and every model's predictions."""

    id: str
    model: str
    profile: str
    reason: str
    fell_back: bool
    decision_ms: float
    preferences: dict[str, Any] = Field(default_factory=dict)
    models: list[ModelScore] = Field(default_factory=list)


class Model(_OpenAIObject):
    """One entry of ``GET /v1/models`` (``auto``, ``auto:<profile>`` or a catalog model)."""

    id: str
    object: str = "model"
    created: int = 0
    owned_by: str = ""


class ModelList(_OpenAIObject):
    """``GET /v1/models``."""

    object: str = "list"
    data: list[Model]

    @property
    def ids(self) -> list[str]:
        """The model ids, in the server's order."""
        return [model.id for model in self.data]


class Health(_OpenAIObject):
    """``GET /readyz``: the catalog is valid and the predictors are loaded."""

    status: str
    catalog: str | None = None
    models: int | None = None
    scorer: str | None = None


class FeedbackResult(_OpenAIObject):
    """``POST /v1/feedback``: stored; ``updated`` when it replaced earlier feedback."""

    object: str = "feedback"
    request_id: str
    model: str | None = None
    updated: bool = False
