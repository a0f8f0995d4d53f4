"""The one error tree of the server, rendered once at the edge in OpenAI's error shape.

::

    RouterError (500 internal_error)
    ├── InvalidRequestError (400 invalid_request_error)
    │   ├── UnknownModelError (404 model_not_found)
    │   ├── RequestNotFoundError (404 request_not_found)
    │   ├── NotFoundError (404 not_found)
    │   ├── ContextLengthError (400 context_length_exceeded)
    │   └── NoFeasibleModelError (400 no_feasible_model)
    ├── AuthenticationError (401 invalid_api_key)
    ├── PermissionDeniedError (403 model_not_allowed)
    ├── RequestTimeoutError (408 request_timeout)
    ├── PayloadTooLargeError (413 request_too_large)
    ├── RateLimitError (429 rate_limit_exceeded, retry-after)
    │   └── BudgetExceededError (429 budget_exceeded, retry-after)
    ├── ModelUnavailableError (503 model_unavailable)
    │   └── CircuitOpenError (503 circuit_open, retry-after)
    ├── OverloadedError (503 server_overloaded | limits_unavailable, retry-after)
    └── UpstreamError (502 upstream_error)
        ├── UpstreamTimeoutError (504 upstream_timeout)
        ├── UpstreamConnectionError (502 upstream_unreachable)
        ├── UpstreamAuthError (502 upstream_auth_error, x-should-retry: false)
        ├── UpstreamRateLimitError (429 upstream_rate_limited, retry-after)
        ├── UpstreamBadRequestError (400 upstream_bad_request)
        └── UpstreamResponseError (502 upstream_bad_response: too large, not JSON)

Every error carries ``message``, ``type``, ``param`` and ``code``; ``to_body`` is the
OpenAI ``{"error": {...}}`` object and ``headers`` the response headers it adds
(``retry-after`` when ``retry_after_s`` is set, and whatever the raiser put in
``extra_headers``). Nothing else in the server builds error bodies. Messages that quote
an upstream are scrubbed first (``router.upstream.scrub``): no addresses, tracebacks or
credentials reach a caller.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar


class RouterError(Exception):
    """Base of every error the server turns into an HTTP response."""

    status_code: ClassVar[int] = 500
    error_type: ClassVar[str] = "internal_error"
    default_code: ClassVar[str | None] = None

    def __init__(
        self,
        message: str,
        *,
        param: str | None = None,
        code: str | None = None,
        retry_after_s: float | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.param = param
        self.code = code if code is not None else self.default_code
        self.retry_after_s = retry_after_s
        #: Headers set by whoever raised it (e.g. the failover chain), sent with the error.
        self.extra_headers: dict[str, str] = {}

    def to_body(self) -> dict[str, Any]:
        """The OpenAI-shaped error body."""
        return {
            "error": {
                "message": self.message,
                "type": self.error_type,
                "param": self.param,
                "code": self.code,
            }
        }

    def headers(self) -> dict[str, str]:
        """Response headers that go with the body: ``extra_headers`` and, when
        ``retry_after_s`` is set, ``retry-after`` in whole seconds."""
        headers = dict(self.extra_headers)
        if self.retry_after_s is not None:
            headers.setdefault("retry-after", str(max(1, math.ceil(self.retry_after_s))))
        return headers


class InvalidRequestError(RouterError):
    """The request is malformed or asks for something impossible."""

    status_code = 400
    error_type = "invalid_request_error"


class UnknownModelError(InvalidRequestError):
    """The ``model`` names neither a catalog model nor an ``auto`` profile."""

    status_code = 404
    default_code = "model_not_found"


class RequestNotFoundError(InvalidRequestError):
    """Feedback names a request id that the request log does not hold."""

    status_code = 404
    default_code = "request_not_found"


class NotFoundError(InvalidRequestError):
    """The request names something (other than a model) that does not exist."""

    status_code = 404
    default_code = "not_found"


class ContextLengthError(InvalidRequestError):
    """The prompt does not fit the context window of any model that could serve it."""

    default_code = "context_length_exceeded"


class NoFeasibleModelError(InvalidRequestError):
    """The caller's constraints removed every model."""

    default_code = "no_feasible_model"


class AuthenticationError(RouterError):
    """No key, or a key that is neither the master key nor a live virtual key."""

    status_code = 401
    error_type = "invalid_request_error"
    default_code = "invalid_api_key"


class PermissionDeniedError(RouterError):
    """The caller's key may not use the model or profile it asked for."""

    status_code = 403
    error_type = "permission_error"
    default_code = "model_not_allowed"


class RequestTimeoutError(RouterError):
    """The client did not send its request (headers or body) in time."""

    status_code = 408
    error_type = "invalid_request_error"
    default_code = "request_timeout"

    def headers(self) -> dict[str, str]:
        """The rest of the body may still be on its way: close the connection."""
        return {"connection": "close"}


class RateLimitError(RouterError):
    """The caller is over a requests, tokens or parallel-requests limit."""

    status_code = 429
    error_type = "rate_limit_error"
    default_code = "rate_limit_exceeded"


class BudgetExceededError(RateLimitError):
    """The caller's key has spent (or would clearly spend) its USD budget for the period."""

    error_type = "insufficient_quota"
    default_code = "budget_exceeded"


class OverloadedError(RouterError):
    """The server is at its concurrency cap, or a fail-closed limit cannot be checked."""

    status_code = 503
    error_type = "service_unavailable_error"
    default_code = "server_overloaded"


class PayloadTooLargeError(RouterError):
    """The request body is over the configured size limit."""

    status_code = 413
    error_type = "invalid_request_error"
    default_code = "request_too_large"


class ModelUnavailableError(RouterError):
    """The chosen model cannot be called (e.g. its API key is not configured)."""

    status_code = 503
    error_type = "service_unavailable_error"
    default_code = "model_unavailable"


class CircuitOpenError(ModelUnavailableError):
    """Every model that could serve the request has an open circuit breaker."""

    default_code = "circuit_open"


class UpstreamError(RouterError):
    """The upstream model provider failed; the message is the provider's."""

    status_code = 502
    error_type = "upstream_error"
    default_code = "upstream_error"

    def __init__(
        self,
        message: str,
        *,
        param: str | None = None,
        code: str | None = None,
        upstream_status: int | None = None,
        retry_after_s: float | None = None,
    ) -> None:
        super().__init__(message, param=param, code=code, retry_after_s=retry_after_s)
        self.upstream_status = upstream_status


class UpstreamTimeoutError(UpstreamError):
    """The upstream did not answer within the configured timeout."""

    status_code = 504
    default_code = "upstream_timeout"


class UpstreamConnectionError(UpstreamError):
    """The upstream could not be reached, or the connection broke before an answer."""

    default_code = "upstream_unreachable"


class UpstreamAuthError(UpstreamError):
    """The upstream refused the router's credentials (401/403): the router's fault.

    ``x-should-retry: false`` tells the OpenAI SDKs not to retry a 502 that retrying
    cannot fix.
    """

    default_code = "upstream_auth_error"

    def headers(self) -> dict[str, str]:
        return {**super().headers(), "x-should-retry": "false"}


class UpstreamRateLimitError(UpstreamError):
    """The upstream answered 429; ``retry_after_s`` is its ``retry-after`` (if it sent one)."""

    status_code = 429
    error_type = "rate_limit_error"
    default_code = "upstream_rate_limited"

    def __init__(
        self,
        message: str,
        *,
        retry_after_s: float | None = None,
        upstream_status: int | None = 429,
    ) -> None:
        super().__init__(message, upstream_status=upstream_status, retry_after_s=retry_after_s)

    def headers(self) -> dict[str, str]:
        seconds = 1.0 if self.retry_after_s is None else self.retry_after_s
        return {**super().headers(), "retry-after": str(max(1, math.ceil(seconds)))}


class UpstreamBadRequestError(UpstreamError):
    """The upstream rejected the caller's request (400/404/413/422): the caller's fault."""

    status_code = 400
    error_type = "invalid_request_error"
    default_code = "upstream_bad_request"


class UpstreamResponseError(UpstreamError):
    """The upstream answered with something unusable (too large, not JSON, broken SSE)."""

    default_code = "upstream_bad_response"
