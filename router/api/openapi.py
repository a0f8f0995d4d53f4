"""OpenAPI fragments shared by the endpoints (error responses)."""

from __future__ import annotations

from typing import Any

from router.schemas import ErrorBody

_ERRORS = {
    400: "Invalid request (bad JSON, wrong types, unknown preference, no feasible model).",
    404: "Unknown model.",
    413: "Request body over the configured limit.",
    429: "The upstream model is rate limited and no fallback answered (see retry-after).",
    502: "The upstream model failed, or refused the router's credentials.",
    503: "The chosen model is unavailable (its API key is not configured, or every "
    "model that could serve has an open circuit breaker).",
    504: "The upstream model timed out.",
}

ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody, "description": text} for status, text in _ERRORS.items()
}
