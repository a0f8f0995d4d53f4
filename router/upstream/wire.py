"""OpenAI wire details shared by the direct (non-litellm) upstreams."""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator
from typing import Any

import orjson

from router.errors import (
    UpstreamConnectionError,
    UpstreamError,
    UpstreamResponseError,
    UpstreamTimeoutError,
)
from router.upstream.base import Endpoint, Payload, UpstreamTarget
from router.upstream.fields import forwardable
from router.upstream.scrub import scrub
from router.upstream.status import upstream_text

PATHS: dict[Endpoint, str] = {"chat": "/chat/completions", "text": "/completions"}
OPENAI_API_BASE = "https://api.openai.com/v1"


def wire_model(litellm_model: str) -> str:
    """The model id the upstream server expects: the litellm string minus its provider."""
    return litellm_model.split("/", 1)[1] if "/" in litellm_model else litellm_model


def upstream_url(target: UpstreamTarget, endpoint: Endpoint, base: str | None = None) -> str:
    """Where the request goes: ``base`` (else the target's, else OpenAI's) plus the path."""
    return (base or target.api_base or OPENAI_API_BASE).rstrip("/") + PATHS[endpoint]


def request_parts(
    target: UpstreamTarget, endpoint: Endpoint, body: Payload, base: str | None = None
) -> tuple[str, bytes, dict[str, str]]:
    """URL, JSON body and headers of the upstream request."""
    url = upstream_url(target, endpoint, base)
    headers = {"content-type": "application/json", **dict(target.headers)}
    if target.api_key:
        headers["authorization"] = f"Bearer {target.api_key}"
    sent = forwardable(body, endpoint, translated=False)
    payload = orjson.dumps({**sent, "model": wire_model(target.litellm_model)})
    return url, payload, headers


def timeout_error(
    target: UpstreamTarget, what: str = "answer", seconds: float | None = None
) -> UpstreamTimeoutError:
    """The error for an upstream that did not answer in time."""
    limit = target.timeout_s if seconds is None else seconds
    return UpstreamTimeoutError(f"Model {target.model!r} did not {what} within {limit:.3g} s")


def unreachable_error(target: UpstreamTarget, error: Exception) -> UpstreamConnectionError:
    """The error for a connection that failed or broke; names no host, port or URL."""
    kind = scrub(type(error).__name__)
    return UpstreamConnectionError(f"Cannot reach model {target.model!r} ({kind})")


def broken_stream_error(target: UpstreamTarget, error: Exception) -> UpstreamConnectionError:
    """The error for a stream whose connection broke after it started."""
    kind = scrub(type(error).__name__)
    return UpstreamConnectionError(f"The stream from model {target.model!r} broke ({kind})")


def parse_json(content: bytes, target: UpstreamTarget) -> Payload:
    """A JSON object from the upstream, or ``UpstreamError``."""
    try:
        parsed: Any = orjson.loads(content)
    except orjson.JSONDecodeError:
        message = f"Model {target.model!r} returned a body that is not JSON"
        raise UpstreamResponseError(message) from None
    if not isinstance(parsed, dict):
        raise UpstreamResponseError(f"Model {target.model!r} returned a non-object JSON body")
    return parsed


def sse_payload(line: bytes, target: UpstreamTarget) -> Payload:
    """The chunk carried by one SSE ``data:`` line (an ``error`` event raises)."""
    data = line[5:].strip()
    chunk = parse_json(data, target)
    if "error" in chunk and "choices" not in chunk:
        text, _ = upstream_text(data)
        detail = scrub(text, (target.api_key,))
        raise UpstreamError(f"Model {target.model!r} sent an error mid-stream: {detail}")
    return chunk


def _finished(chunk: Payload) -> bool:
    choices = chunk.get("choices")
    if not isinstance(choices, list):
        return False
    return any(isinstance(c, dict) and c.get("finish_reason") for c in choices)


async def sse_events(
    batches: AsyncIterable[list[bytes]], target: UpstreamTarget
) -> AsyncIterator[list[Payload]]:
    """The chunks of an OpenAI event stream, up to ``data: [DONE]``: one list per batch
    of lines that carries any, so the chunks of one network read are relayed together.

    A stream that stops without ``[DONE]`` and without any ``finish_reason`` was cut
    (a connection closed mid-body can look like a clean end): that raises. So does a bad
    line, after the chunks before it in its batch.
    """
    finished = False
    async for lines in batches:
        chunks: list[Payload] = []
        for line in lines:
            if not is_data(line):
                continue
            if is_done(line):
                if chunks:
                    yield chunks
                return
            try:
                chunk = sse_payload(line, target)
            except UpstreamError:
                if chunks:
                    yield chunks
                raise
            finished = finished or _finished(chunk)
            chunks.append(chunk)
        if chunks:
            yield chunks
    if not finished:
        raise UpstreamConnectionError(
            f"The stream from model {target.model!r} ended before it was complete"
        )


def is_data(line: bytes) -> bool:
    """True for an SSE ``data:`` line."""
    return line.startswith(b"data:")


def is_done(line: bytes) -> bool:
    """True for the ``data: [DONE]`` terminator."""
    return line[5:].strip() == b"[DONE]"


def valid_usage(usage: Any) -> Payload | None:
    """An upstream's ``usage`` if its token counts are non-negative integers, else None.

    Upstreams are not trusted: a negative or fractional count is treated as missing
    rather than fed into runtime fits, spend and metrics.
    """
    if not isinstance(usage, dict):
        return None
    for key in ("prompt_tokens", "completion_tokens", "total_tokens"):
        count = usage.get(key)
        if key == "total_tokens" and count is None:
            continue
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            return None
    return usage
