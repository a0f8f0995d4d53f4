"""The one error tree of the server, rendered once at the edge in OpenAI's error shape.

::

    RouterError (500 internal_error)
    ├── InvalidRequestError (400 invalid_request_error)
    │   ├── UnknownModelError (404 model_not_found)
    │   ├── RequestNotFoundError (404 request_not_found)
    │   ├── ContextLengthError (400 context_length_exceeded)
    │   └── NoFeasibleModelError (400 no_feasible_model)
    ├── PayloadTooLargeError (413 request_too_large)
    ├── ModelUnavailableError (503 model_unavailable)
    └── UpstreamError (502 upstream_error)
        └── UpstreamTimeoutError (504 upstream_timeout)

Every error carries ``message``, ``type``, ``param`` and ``code``; ``to_body`` is the
OpenAI ``{"error": {...}}`` object. Nothing else in the server builds error bodies.
"""

from __future__ import annotations

from typing import Any, ClassVar


class RouterError(Exception):
    """Base of every error the server turns into an HTTP response."""

    status_code: ClassVar[int] = 500
    error_type: ClassVar[str] = "internal_error"
    default_code: ClassVar[str | None] = None

    def __init__(self, message: str, *, param: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.param = param
        self.code = code if code is not None else self.default_code

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


class ContextLengthError(InvalidRequestError):
    """The prompt does not fit the context window of any model that could serve it."""

    default_code = "context_length_exceeded"


class NoFeasibleModelError(InvalidRequestError):
    """The caller's constraints removed every model."""

    default_code = "no_feasible_model"


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
    ) -> None:
        super().__init__(message, param=param, code=code)
        self.upstream_status = upstream_status


class UpstreamTimeoutError(UpstreamError):
    """The upstream did not answer within the configured timeout."""

    status_code = 504
    default_code = "upstream_timeout"
