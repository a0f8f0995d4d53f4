"""OpenAPI fragments shared by the endpoints (error responses)."""

from __future__ import annotations

from typing import Any

from router.schemas import ErrorBody

_ERRORS = {
    400: "Invalid request (bad JSON, wrong types, unknown preference, no feasible model).",
    401: "Missing or wrong API key (when PARETOROUTE_MASTER_KEY is set).",
    403: "The key may not use this model or profile.",
    404: "Unknown model.",
    408: "The request body did not arrive in time.",
    413: "Request body over the configured limit.",
    429: "Over a rate, parallel-request or budget limit, or the upstream model is rate "
    "limited and no fallback answered (retry-after says when to retry).",
    502: "The upstream model failed, or refused the router's credentials.",
    503: "The chosen model is unavailable (its API key is not configured, or every model "
    "that could serve has an open circuit breaker), or the router is at its concurrency cap.",
    504: "The upstream model timed out.",
}

ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody, "description": text} for status, text in _ERRORS.items()
}
