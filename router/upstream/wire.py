"""OpenAI wire details shared by the direct (non-litellm) upstreams."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

from router.errors import UpstreamError, UpstreamTimeoutError
from router.upstream.base import Endpoint, Payload, UpstreamTarget
from router.upstream.fields import forwardable

PATHS: dict[Endpoint, str] = {"chat": "/chat/completions", "text": "/completions"}
OPENAI_API_BASE = "https://api.openai.com/v1"


def wire_model(litellm_model: str) -> str:
    """The model id the upstream server expects: the litellm string minus its provider."""
    return litellm_model.split("/", 1)[1] if "/" in litellm_model else litellm_model


def request_parts(
    target: UpstreamTarget, endpoint: Endpoint, body: Payload, base: str | None = None
) -> tuple[str, bytes, dict[str, str]]:
    """URL, JSON body and headers of the upstream request."""
    url = (base or target.api_base or OPENAI_API_BASE).rstrip("/") + PATHS[endpoint]
    headers = {"content-type": "application/json", **dict(target.headers)}
    if target.api_key:
        headers["authorization"] = f"Bearer {target.api_key}"
    sent = forwardable(body, endpoint, translated=False)
    payload = orjson.dumps({**sent, "model": wire_model(target.litellm_model)})
    return url, payload, headers


def error_message(response_body: bytes, status: int) -> str:
    """The upstream's own error message, prefixed with its HTTP status."""
    try:
        parsed = orjson.loads(response_body)
    except orjson.JSONDecodeError:
        text = response_body.decode(errors="replace").strip()
        return f"upstream returned HTTP {status}: {text[:500]}"
    if isinstance(parsed, Mapping):
        error = parsed.get("error")
        if isinstance(error, Mapping) and error.get("message"):
            return f"upstream returned HTTP {status}: {error['message']}"
        if isinstance(error, str):
            return f"upstream returned HTTP {status}: {error}"
    return f"upstream returned HTTP {status}"


def status_error(content: bytes, status: int) -> UpstreamError:
    """The error for a non-2xx upstream answer."""
    return UpstreamError(error_message(content, status), upstream_status=status)


def timeout_error(target: UpstreamTarget) -> UpstreamTimeoutError:
    """The error for an upstream that did not answer in time."""
    return UpstreamTimeoutError(
        f"model {target.model!r} did not answer within {target.timeout_s:g} s"
    )


def unreachable_error(target: UpstreamTarget, error: Exception) -> UpstreamError:
    """The error for a connection that failed or broke."""
    return UpstreamError(f"cannot reach model {target.model!r}: {error}")


def parse_json(content: bytes, target: UpstreamTarget) -> Payload:
    """A JSON object from the upstream, or ``UpstreamError``."""
    try:
        parsed: Any = orjson.loads(content)
    except orjson.JSONDecodeError:
        raise UpstreamError(f"model {target.model!r} returned a body that is not JSON") from None
    if not isinstance(parsed, dict):
        raise UpstreamError(f"model {target.model!r} returned a non-object JSON body")
    return parsed


def sse_payload(line: bytes, target: UpstreamTarget) -> Payload:
    """The chunk carried by one SSE ``data:`` line (an ``error`` event raises)."""
    data = line[5:].strip()
    chunk = parse_json(data, target)
    if "error" in chunk and "choices" not in chunk:
        raise UpstreamError(error_message(data, 200))
    return chunk


def is_data(line: bytes) -> bool:
    """True for an SSE ``data:`` line."""
    return line.startswith(b"data:")


def is_done(line: bytes) -> bool:
    """True for the ``data: [DONE]`` terminator."""
    return line[5:].strip() == b"[DONE]"
