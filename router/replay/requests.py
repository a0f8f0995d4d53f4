"""Parsing and validating requests to the replay server.

Hand-written checks rather than pydantic models: this server sits on the default request
path, so parsing is kept to one ``orjson.loads`` and a few type tests. Every failure is
a ``ReplayRequestError`` carrying the OpenAI error fields.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from predictors.tokens import count_message_tokens, count_tokens
from router.replay.data import ReplayDataset, ReplayRecord
from router.replay.wire import Kind

MAX_CHOICES = 128
OPENAI_PREFIX = "openai/"


class ReplayRequestError(Exception):
    """A request the replay server rejects, with its HTTP status and OpenAI error fields."""

    def __init__(
        self,
        message: str,
        *,
        status: int = 400,
        param: str | None = None,
        code: str | None = None,
        kind: str = "invalid_request_error",
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.param = param
        self.code = code
        self.kind = kind


@dataclass(frozen=True, slots=True)
class PromptInput:
    """One prompt of a request: its recording (if any) and its own token count."""

    record: ReplayRecord | None
    prompt_tokens: int


@dataclass(frozen=True, slots=True)
class ReplayRequest:
    """A validated request."""

    kind: Kind
    model: str
    prompts: tuple[PromptInput, ...]
    n: int
    max_tokens: int | None
    stream: bool
    include_usage: bool


def resolve_model(dataset: ReplayDataset, requested: str) -> str:
    """The dataset model for a requested name: the public name or ``openai/<name>``."""
    if requested in dataset.models:
        return requested
    bare = requested.removeprefix(OPENAI_PREFIX)
    if bare in dataset.models:
        return bare
    raise ReplayRequestError(
        f"The model '{requested}' does not exist in the replay set; known models: "
        f"{', '.join(dataset.models)}",
        status=404,
        param="model",
        code="model_not_found",
    )


def _positive_int(body: Mapping[str, Any], field: str, limit: int | None = None) -> int | None:
    value = body.get(field)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ReplayRequestError(f"'{field}' must be a positive integer", param=field)
    if limit is not None and value > limit:
        raise ReplayRequestError(f"'{field}' must be at most {limit}", param=field)
    return value


def _flag(body: Mapping[str, Any], field: str) -> bool:
    value = body.get(field, False)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise ReplayRequestError(f"'{field}' must be a boolean", param=field)
    return value


def _include_usage(body: Mapping[str, Any]) -> bool:
    options = body.get("stream_options")
    if options is None:
        return False
    if not isinstance(options, Mapping):
        raise ReplayRequestError("'stream_options' must be an object", param="stream_options")
    return bool(options.get("include_usage", False))


def _chat_prompt(dataset: ReplayDataset, body: Mapping[str, Any]) -> tuple[PromptInput, ...]:
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise ReplayRequestError("'messages' must be a non-empty array", param="messages")
    if not all(isinstance(m, Mapping) and isinstance(m.get("role"), str) for m in messages):
        raise ReplayRequestError(
            "each message must be an object with a string 'role'", param="messages"
        )
    record = dataset.lookup_messages(messages)
    tokens = record.prompt_tokens if record else count_message_tokens(messages)
    return (PromptInput(record, tokens),)


def _text_prompts(dataset: ReplayDataset, body: Mapping[str, Any]) -> tuple[PromptInput, ...]:
    prompt = body.get("prompt")
    prompts = [prompt] if isinstance(prompt, str) else prompt
    if not isinstance(prompts, list) or not prompts or not all(isinstance(p, str) for p in prompts):
        raise ReplayRequestError(
            "'prompt' must be a string or a non-empty array of strings", param="prompt"
        )
    inputs = []
    for text in prompts:
        record = dataset.lookup(text)
        inputs.append(PromptInput(record, record.prompt_tokens if record else count_tokens(text)))
    return tuple(inputs)


def parse_request(dataset: ReplayDataset, kind: Kind, raw: bytes) -> ReplayRequest:
    """Validate a request body; raises ``ReplayRequestError``."""
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as error:
        raise ReplayRequestError(f"request body is not valid JSON: {error}") from None
    if not isinstance(body, Mapping):
        raise ReplayRequestError("request body must be a JSON object")
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise ReplayRequestError("'model' must be a non-empty string", param="model")
    prompts = _chat_prompt(dataset, body) if kind == "chat" else _text_prompts(dataset, body)
    max_tokens = _positive_int(body, "max_tokens")
    if kind == "chat":
        max_tokens = _positive_int(body, "max_completion_tokens") or max_tokens
    return ReplayRequest(
        kind=kind,
        model=resolve_model(dataset, model),
        prompts=prompts,
        n=_positive_int(body, "n", MAX_CHOICES) or 1,
        max_tokens=max_tokens,
        stream=_flag(body, "stream"),
        include_usage=_include_usage(body),
    )
