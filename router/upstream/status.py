"""Honest error mapping: an upstream's HTTP status becomes the right router error, once.

====================  ===================  =================================================
upstream              router answers       why
====================  ===================  =================================================
400, 404, 413, 422    400                  the caller's request was refused; message relayed
401, 403              502 auth error       the router's credentials; ``x-should-retry: false``
408, timeout          504                  the upstream did not answer in time
429                   429 + retry-after    when no fallback model succeeded either
other 4xx, 5xx        502                  the upstream failed
connection error      502 unreachable      never names the host or port
====================  ===================  =================================================

Every message quoting the upstream goes through ``router.upstream.scrub`` first. All
three upstream paths (aiohttp, httpx in-process, litellm) call ``status_error``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable, Mapping
from email.utils import parsedate_to_datetime
from typing import Any

import orjson

from router.errors import (
    UpstreamAuthError,
    UpstreamBadRequestError,
    UpstreamError,
    UpstreamRateLimitError,
    UpstreamTimeoutError,
)
from router.upstream.scrub import scrub

BAD_REQUEST = frozenset({400, 404, 413, 422})
AUTH = frozenset({401, 403})


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds from a ``retry-after`` header (delta-seconds or HTTP date); None if unusable."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        seconds = when.timestamp() - (time.time() if now is None else now)
    if not math.isfinite(seconds):
        return None
    return max(0.0, seconds)


def upstream_text(body: bytes) -> tuple[str, str | None]:
    """The upstream's own error message and ``param`` (unscrubbed), from its error body."""
    try:
        parsed: Any = orjson.loads(body)
    except orjson.JSONDecodeError:
        return body[:2000].decode(errors="replace").strip(), None
    if isinstance(parsed, Mapping):
        error = parsed.get("error")
        if isinstance(error, Mapping):
            param = error.get("param")
            message = error.get("message")
            return (str(message) if message else ""), (param if isinstance(param, str) else None)
        if isinstance(error, str):
            return error, None
        if isinstance(parsed.get("message"), str):
            return parsed["message"], None
    return "", None


def status_error(
    model: str,
    status: int,
    text: str,
    *,
    param: str | None = None,
    retry_after: str | None = None,
    secrets: Iterable[str | None] = (),
) -> UpstreamError:
    """The router error for a non-2xx upstream answer (``text`` is scrubbed here)."""
    detail = scrub(text, secrets)
    said = f": {detail}" if detail else ""
    if status in BAD_REQUEST:
        clean_param = scrub(param)[:64] if param else None
        return UpstreamBadRequestError(
            f"Model {model!r} rejected the request (HTTP {status}){said}",
            param=clean_param or None,
            upstream_status=status,
        )
    if status in AUTH:
        return UpstreamAuthError(
            f"Model {model!r} refused the router's credentials (HTTP {status}); "
            "the router's configuration must be fixed, retrying will not help",
            upstream_status=status,
        )
    if status == 429:
        return UpstreamRateLimitError(
            f"Model {model!r} is rate limited (HTTP 429){said}",
            retry_after_s=parse_retry_after(retry_after),
        )
    if status == 408:
        return UpstreamTimeoutError(f"Model {model!r} timed out (HTTP 408)", upstream_status=408)
    return UpstreamError(f"Model {model!r} failed (HTTP {status}){said}", upstream_status=status)


def body_error(
    model: str,
    status: int,
    body: bytes,
    headers: Mapping[str, str],
    secrets: Iterable[str | None] = (),
) -> UpstreamError:
    """``status_error`` from a raw HTTP error response (body and headers)."""
    text, param = upstream_text(body)
    return status_error(
        model,
        status,
        text,
        param=param,
        retry_after=headers.get("retry-after"),
        secrets=secrets,
    )
