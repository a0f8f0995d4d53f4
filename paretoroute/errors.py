"""The SDK's exceptions: one tree, each carrying OpenAI's error fields and the HTTP status.

::

    ParetorouteError                    message, type, param, code, status_code, request_id
    ├── APIStatusError                  any other non-2xx answer
    │   ├── BadRequestError             400
    │   │   └── NoFeasibleModelError    400, code "no_feasible_model"
    │   ├── AuthenticationError         401
    │   ├── PermissionDeniedError       403
    │   ├── NotFoundError               404 (unknown model, profile or request id)
    │   ├── RateLimitError              429 (``retry_after`` from the header)
    │   ├── InternalServerError         500 and other 5xx
    │   ├── UpstreamError               502 (the model provider failed)
    │   ├── ServiceUnavailableError     503
    │   └── TimeoutError                504, or the client's own timeout (status_code None)
    └── ConnectionError                 the server could not be reached

An ``error`` event in the middle of a stream raises the class its ``type``/``code`` names
(``upstream_timeout`` → ``TimeoutError``, ``upstream_error`` → ``UpstreamError``, ...)
with the status the server would have answered had the stream not started.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = [
    "APIStatusError",
    "AuthenticationError",
    "BadRequestError",
    "ConnectionError",
    "InternalServerError",
    "NoFeasibleModelError",
    "NotFoundError",
    "ParetorouteError",
    "PermissionDeniedError",
    "RateLimitError",
    "ServiceUnavailableError",
    "TimeoutError",
    "UpstreamError",
]


class ParetorouteError(Exception):
    """Base of every error the SDK raises for a failed call."""

    def __init__(
        self,
        message: str,
        *,
        type: str | None = None,
        param: str | None = None,
        code: str | None = None,
        status_code: int | None = None,
        request_id: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.type = type
        self.param = param
        self.code = code
        self.status_code = status_code
        self.request_id = request_id
        #: Seconds the server asked to wait (``retry-after``), when it said.
        self.retry_after = retry_after

    def __str__(self) -> str:
        status = f"{self.status_code} " if self.status_code is not None else ""
        code = f" [{self.code}]" if self.code else ""
        return f"{status}{self.message}{code}"


class APIStatusError(ParetorouteError):
    """The server answered with an error status."""


class BadRequestError(APIStatusError):
    """400: malformed body, wrong types, unknown preference, context too long."""


class NoFeasibleModelError(BadRequestError):
    """400 ``no_feasible_model``: the constraints removed every model (``param`` names one)."""


class AuthenticationError(APIStatusError):
    """401: missing or wrong API key."""


class PermissionDeniedError(APIStatusError):
    """403: the key may not do this."""


class NotFoundError(APIStatusError):
    """404: unknown model, profile, path or request id."""


class RateLimitError(APIStatusError):
    """429: too many requests; ``retry_after`` says how long to wait, when known."""


class InternalServerError(APIStatusError):
    """500 or another 5xx without a class of its own."""


class UpstreamError(APIStatusError):
    """502: the model provider behind the router failed."""


class ServiceUnavailableError(APIStatusError):
    """503: the chosen model is unavailable, or the server is not ready."""


class TimeoutError(APIStatusError):
    """504 from the server, or this client's timeout (then ``status_code`` is None)."""


class ConnectionError(ParetorouteError):
    """The server could not be reached (refused, reset, DNS, TLS)."""


_BY_STATUS: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    429: RateLimitError,
    502: UpstreamError,
    503: ServiceUnavailableError,
    504: TimeoutError,
}
_BY_CODE: dict[str, type[APIStatusError]] = {"no_feasible_model": NoFeasibleModelError}
#: In-stream errors have no status of their own; the server's type/code says which it was.
_STREAM_STATUS: dict[str, int] = {
    "upstream_timeout": 504,
    "upstream_error": 502,
    "service_unavailable_error": 503,
    "model_unavailable": 503,
    "invalid_request_error": 400,
}


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def status_error(
    status_code: int,
    body: Any,
    *,
    request_id: str | None = None,
    retry_after: float | None = None,
) -> APIStatusError:
    """The exception for an error answer; ``body`` is its parsed JSON (any shape) or text."""
    detail = body.get("error") if isinstance(body, Mapping) else None
    if not isinstance(detail, Mapping):
        # Not OpenAI-shaped (a proxy's page, /readyz's body): keep what there is.
        text = body.get("detail") if isinstance(body, Mapping) else body
        detail = {"message": _text(text) or f"HTTP {status_code}"}
    code = _text(detail.get("code"))
    cls = _BY_CODE.get(code or "") or _BY_STATUS.get(status_code)
    if cls is None:
        cls = InternalServerError if status_code >= 500 else APIStatusError
    return cls(
        _text(detail.get("message")) or f"HTTP {status_code}",
        type=_text(detail.get("type")),
        param=_text(detail.get("param")),
        code=code,
        status_code=status_code,
        request_id=request_id,
        retry_after=retry_after,
    )


def stream_error(body: Mapping[str, Any], *, request_id: str | None = None) -> APIStatusError:
    """The exception for an ``{"error": {...}}`` event received mid-stream."""
    detail = body.get("error")
    detail = detail if isinstance(detail, Mapping) else {}
    status = _STREAM_STATUS.get(str(detail.get("code")))
    status = status or _STREAM_STATUS.get(str(detail.get("type")), 500)
    return status_error(status, body, request_id=request_id)
