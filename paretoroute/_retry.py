"""When to retry, how long to wait, and how HTTP failures become SDK exceptions.

Retried: connection errors (including connect timeouts), 429 *with* ``retry-after``,
502, 503 and 504. Never retried: any other 4xx, a 429 without ``retry-after``, a read
timeout of this client (the request may be running and billed upstream), and anything
after a stream has started. The wait is the server's ``retry-after`` when it gives one
of at most ``MAX_RETRY_AFTER_S``, else exponential backoff with jitter, capped.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx

from paretoroute.errors import (
    APIStatusError,
    ConnectionError,
    ParetorouteError,
    RateLimitError,
    TimeoutError,
    status_error,
)

INITIAL_BACKOFF_S = 0.5
MAX_BACKOFF_S = 8.0
MAX_RETRY_AFTER_S = 60.0
_RETRY_STATUSES = frozenset({502, 503, 504})
REQUEST_ID_HEADER = "x-paretoroute-request-id"


def retry_after_s(value: str | None) -> float | None:
    """Seconds from a ``retry-after`` header (delta-seconds or an HTTP date), or None."""
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


@dataclass(frozen=True)
class RetryPolicy:
    """``max_retries`` retries after the first try; waits bounded by the constants above."""

    max_retries: int = 2
    initial_backoff_s: float = INITIAL_BACKOFF_S
    max_backoff_s: float = MAX_BACKOFF_S

    def backoff(self, attempt: int) -> float:
        """Exponential wait before retry number ``attempt + 1`` (up to 25% shorter, jitter)."""
        wait = min(self.max_backoff_s, self.initial_backoff_s * 2.0**attempt)
        return wait * (1 - 0.25 * random.random())

    def delay(self, attempt: int, error: ParetorouteError) -> float | None:
        """Seconds to wait before retrying after ``error``, or None to give up."""
        if attempt >= self.max_retries:
            return None
        if isinstance(error, ConnectionError):
            return self.backoff(attempt)
        if not isinstance(error, APIStatusError):
            return None
        hint = error.retry_after
        honoured = hint if hint is not None and hint <= MAX_RETRY_AFTER_S else None
        if isinstance(error, RateLimitError):
            return honoured
        if error.status_code in _RETRY_STATUSES:
            return honoured if honoured is not None else self.backoff(attempt)
        return None


def _json_or_text(response: httpx.Response) -> object:
    try:
        return response.json()
    except ValueError:
        return response.text


def response_error(response: httpx.Response) -> APIStatusError:
    """The exception for a non-2xx response whose body has been read."""
    return status_error(
        response.status_code,
        _json_or_text(response),
        request_id=response.headers.get(REQUEST_ID_HEADER),
        retry_after=retry_after_s(response.headers.get("retry-after")),
    )


def transport_error(error: httpx.TransportError, request: httpx.Request) -> ParetorouteError:
    """An httpx failure with no response as ``ConnectionError`` or ``TimeoutError``."""
    where = f"{request.method} {request.url}"
    result: ParetorouteError
    if isinstance(error, httpx.ConnectTimeout | httpx.ConnectError | httpx.RemoteProtocolError):
        result = ConnectionError(f"could not reach {where}: {error or type(error).__name__}")
    elif isinstance(error, httpx.TimeoutException):
        result = TimeoutError(f"{where} timed out on the client: {type(error).__name__}")
    else:
        result = ConnectionError(f"{where} failed: {error or type(error).__name__}")
    result.__cause__ = error
    return result
