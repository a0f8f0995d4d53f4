"""OpenAI wire format for the replay server: response bodies and SSE streams.

Everything is built as plain dicts and serialised with orjson; a stream is a list of
ready ``data: ...`` byte strings (role chunk, content chunks, final chunk with
``finish_reason``, an optional usage chunk, ``data: [DONE]``).
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Sequence
from typing import Any, Literal

import orjson

from router.replay.answers import ReplayAnswer

Kind = Literal["chat", "text"]
DONE = b"data: [DONE]\n\n"
#: Stream pieces: a word with its trailing whitespace (leading whitespace kept too).
_PIECE = re.compile(r"\s*\S+\s*|\s+")


def new_id(kind: Kind) -> str:
    """A fresh OpenAI-style object id."""
    return ("chatcmpl-" if kind == "chat" else "cmpl-") + uuid.uuid4().hex


def usage(answers: Sequence[ReplayAnswer], prompt_tokens: int) -> dict[str, int]:
    """OpenAI ``usage``: the prompt once, completions summed over choices."""
    completion = sum(a.completion_tokens for a in answers)
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion,
        "total_tokens": prompt_tokens + completion,
    }


def _choice(kind: Kind, index: int, answer: ReplayAnswer) -> dict[str, Any]:
    if kind == "chat":
        return {
            "index": index,
            "message": {"role": "assistant", "content": answer.text, "refusal": None},
            "logprobs": None,
            "finish_reason": answer.finish_reason,
        }
    return {
        "index": index,
        "text": answer.text,
        "logprobs": None,
        "finish_reason": answer.finish_reason,
    }


def full_body(kind: Kind, model: str, answers: Sequence[ReplayAnswer], prompt_tokens: int) -> bytes:
    """A non-streaming ``chat.completion`` or ``text_completion`` object."""
    body = {
        "id": new_id(kind),
        "object": "chat.completion" if kind == "chat" else "text_completion",
        "created": int(time.time()),
        "model": model,
        "choices": [_choice(kind, i, a) for i, a in enumerate(answers)],
        "usage": usage(answers, prompt_tokens),
        "system_fingerprint": "paretoroute-replay",
    }
    return orjson.dumps(body)


class _ChunkWriter:
    """Serialises chunks that share one id, timestamp and model."""

    def __init__(self, kind: Kind, model: str) -> None:
        self.kind = kind
        self.head = {
            "id": new_id(kind),
            "object": "chat.completion.chunk" if kind == "chat" else "text_completion",
            "created": int(time.time()),
            "model": model,
        }

    def event(self, choices: list[dict[str, Any]], **extra: Any) -> bytes:
        return b"data: " + orjson.dumps({**self.head, "choices": choices, **extra}) + b"\n\n"

    def choice(self, index: int, piece: str | None, finish: str | None) -> dict[str, Any]:
        if self.kind == "text":
            return {"index": index, "text": piece or "", "logprobs": None, "finish_reason": finish}
        delta: dict[str, Any] = {} if piece is None else {"content": piece}
        return {"index": index, "delta": delta, "logprobs": None, "finish_reason": finish}


def stream_events(
    kind: Kind,
    model: str,
    answers: Sequence[ReplayAnswer],
    prompt_tokens: int,
    *,
    include_usage: bool,
) -> list[bytes]:
    """Every SSE event of a streamed answer, in order, ending with ``data: [DONE]``."""
    writer = _ChunkWriter(kind, model)
    events = []
    for index, answer in enumerate(answers):
        if kind == "chat":
            role = {"index": index, "delta": {"role": "assistant", "content": ""}}
            events.append(writer.event([{**role, "logprobs": None, "finish_reason": None}]))
        for piece in _PIECE.findall(answer.text):
            events.append(writer.event([writer.choice(index, piece, None)]))
        events.append(writer.event([writer.choice(index, None, answer.finish_reason)]))
    if include_usage:
        events.append(writer.event([], usage=usage(answers, prompt_tokens)))
    events.append(DONE)
    return events


def error_body(message: str, *, kind: str, param: str | None, code: str | None) -> bytes:
    """The OpenAI error object."""
    return orjson.dumps({"error": {"message": message, "type": kind, "param": param, "code": code}})
