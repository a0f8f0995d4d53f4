"""Reading what a captured request and response said: usage, text, error code.

Runs on the writer thread. Handles a JSON completion, a JSON error body and an SSE
stream (chunks, a final ``usage`` chunk if the upstream sent one, an ``error`` event when
the upstream failed mid-stream).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson


@dataclass(frozen=True, slots=True)
class ResponseFacts:
    """What the log keeps from a response body."""

    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    text: str | None = None
    error_code: str | None = None


def json_object(raw: bytes) -> dict[str, Any]:
    """``raw`` as a JSON object, or ``{}`` when it is not one."""
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return {}
    return value if isinstance(value, dict) else {}


def _usage(value: Any) -> tuple[int | None, int | None]:
    if not isinstance(value, dict):
        return None, None
    prompt, completion = value.get("prompt_tokens"), value.get("completion_tokens")
    return (
        prompt if isinstance(prompt, int) else None,
        completion if isinstance(completion, int) else None,
    )


def _error_code(body: dict[str, Any]) -> str | None:
    error = body.get("error")
    if not isinstance(error, dict):
        return None
    code = error.get("code") or error.get("type") or "error"
    return str(code)[:64]


def _choice_text(body: dict[str, Any], delta: bool) -> str:
    choices = body.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        return ""
    choice = choices[0]
    if "text" in choice:
        return str(choice.get("text") or "")
    message = choice.get("delta" if delta else "message")
    content = message.get("content") if isinstance(message, dict) else None
    return content if isinstance(content, str) else ""


def _stream_facts(raw: bytes) -> ResponseFacts:
    usage: Any = None
    error: str | None = None
    pieces: list[str] = []
    for line in raw.split(b"\n"):
        if not line.startswith(b"data: ") or line == b"data: [DONE]":
            continue
        event = json_object(line[6:])
        error = _error_code(event) or error
        usage = event.get("usage") or usage
        pieces.append(_choice_text(event, delta=True))
    prompt, completion = _usage(usage)
    return ResponseFacts(prompt, completion, "".join(pieces), error)


def response_facts(raw: bytes) -> ResponseFacts:
    """Usage, text and error code of a JSON or SSE response body."""
    if raw.startswith(b"data: "):
        return _stream_facts(raw)
    body = json_object(raw)
    error = _error_code(body)
    if error is not None:
        return ResponseFacts(error_code=error)
    prompt, completion = _usage(body.get("usage"))
    return ResponseFacts(prompt, completion, _choice_text(body, delta=False))


def prompt_text(request: dict[str, Any]) -> str | None:
    """The prompt as text: chat messages as JSON, a legacy prompt as given."""
    if "messages" in request:
        return orjson.dumps(request["messages"]).decode()
    prompt = request.get("prompt")
    if isinstance(prompt, str):
        return prompt
    return orjson.dumps(prompt).decode() if prompt is not None else None
