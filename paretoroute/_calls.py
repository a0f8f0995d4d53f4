"""What each SDK method sends, independent of sync or async transport.

A method builds a ``Call`` (method, path, JSON body, whether to stream); the client sends
it with retries and parses the answer with the matching function below. Sync and async
clients share all of this, so their behaviour cannot differ.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from paretoroute.preferences import split_preferences

__all__ = ["Call", "chat_call", "completion_call", "feedback_call", "route_call"]

Messages = Sequence[Mapping[str, Any]]


@dataclass(frozen=True)
class Call:
    """One HTTP request of the API."""

    method: Literal["GET", "POST"]
    path: str
    body: dict[str, Any] | None = None
    stream: bool = False


MODELS = Call("GET", "/v1/models")
HEALTH = Call("GET", "/readyz")


def _generation_body(
    model: str, profile: str | None, stream: bool, fields: Mapping[str, Any]
) -> dict[str, Any]:
    preferences, openai_fields = split_preferences(profile, fields)
    body: dict[str, Any] = {**openai_fields, "model": model}
    if stream:
        body["stream"] = True
    router = preferences.wire()
    if router:
        body["router"] = router
    return body


def chat_call(
    messages: Messages, model: str, profile: str | None, stream: bool, fields: Mapping[str, Any]
) -> Call:
    """``POST /v1/chat/completions``."""
    body = _generation_body(model, profile, stream, fields)
    body["messages"] = [dict(message) for message in messages]
    return Call("POST", "/v1/chat/completions", body, stream)


def completion_call(
    prompt: str | Sequence[str],
    model: str,
    profile: str | None,
    stream: bool,
    fields: Mapping[str, Any],
) -> Call:
    """Legacy ``POST /v1/completions``."""
    body = _generation_body(model, profile, stream, fields)
    body["prompt"] = prompt if isinstance(prompt, str) else list(prompt)
    return Call("POST", "/v1/completions", body, stream)


def route_call(messages: Messages, profile: str | None, fields: Mapping[str, Any]) -> Call:
    """``POST /v1/route``: preferences only; other keywords are OpenAI fields (``max_tokens``)."""
    body = _generation_body("auto", profile, False, fields)
    body["messages"] = [dict(message) for message in messages]
    return Call("POST", "/v1/route", body)


class FeedbackBody(BaseModel):
    """The ``POST /v1/feedback`` body: exactly one of score, thumbs or label."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    request_id: str = Field(min_length=1)
    score: float | None = Field(default=None, ge=0, le=1)
    thumbs: Literal["up", "down"] | None = None
    label: str | None = Field(default=None, min_length=1, max_length=64)
    comment: str | None = Field(default=None, max_length=2000)

    @model_validator(mode="after")
    def _exactly_one(self) -> FeedbackBody:
        given = [v for v in (self.score, self.thumbs, self.label) if v is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of score, thumbs or label")
        return self


def feedback_call(
    request_id: str,
    score: float | None,
    thumbs: Literal["up", "down"] | None,
    label: str | None,
    comment: str | None,
) -> Call:
    """``POST /v1/feedback``; raises ``pydantic.ValidationError`` before sending bad input."""
    body = FeedbackBody(
        request_id=request_id, score=score, thumbs=thumbs, label=label, comment=comment
    )
    return Call("POST", "/v1/feedback", body.model_dump(exclude_none=True))
