"""Which failures are retried, which fall back, which count against a circuit; backoff.

One row per failure kind, so adding a kind is one row. Retrying is only safe where the
upstream did no work or said "try again": connection errors, 429 and 5xx. A timeout is
not retried on the same model (it already spent the time) but falls back; a request
the upstream refused as invalid (400/404/422) is the caller's to fix and goes back at
once.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from router.errors import (
    ModelUnavailableError,
    RouterError,
    UpstreamAuthError,
    UpstreamBadRequestError,
    UpstreamConnectionError,
    UpstreamError,
    UpstreamRateLimitError,
    UpstreamResponseError,
    UpstreamTimeoutError,
)


@dataclass(frozen=True, slots=True)
class FailureKind:
    """How the failover treats one kind of failure."""

    reason: str
    retry: bool
    fall_back: bool
    breaker_failure: bool
    #: The ``paretoroute_fallbacks_total`` reason when a request left a model for this.
    metric: str = "upstream_error"


OK_REASON = "ok"
CIRCUIT_OPEN = "circuit_open"

_KINDS = {
    "timeout": FailureKind(
        "timeout", retry=False, fall_back=True, breaker_failure=True, metric="upstream_timeout"
    ),
    "connect": FailureKind("connect_error", retry=True, fall_back=True, breaker_failure=True),
    "429": FailureKind(
        "upstream_429", retry=True, fall_back=True, breaker_failure=True, metric="rate_limited"
    ),
    "5xx": FailureKind("upstream_5xx", retry=True, fall_back=True, breaker_failure=True),
    "auth": FailureKind("upstream_auth", retry=False, fall_back=True, breaker_failure=True),
    "bad_response": FailureKind("bad_response", retry=False, fall_back=True, breaker_failure=True),
    "4xx": FailureKind("upstream_4xx", retry=False, fall_back=False, breaker_failure=False),
    "unavailable": FailureKind(
        "unavailable",
        retry=False,
        fall_back=True,
        breaker_failure=False,
        metric="model_unavailable",
    ),
    "other": FailureKind("upstream_error", retry=False, fall_back=True, breaker_failure=True),
}

_BY_TYPE: tuple[tuple[type[RouterError], str], ...] = (
    (UpstreamTimeoutError, "timeout"),
    (UpstreamConnectionError, "connect"),
    (UpstreamRateLimitError, "429"),
    (UpstreamAuthError, "auth"),
    (UpstreamBadRequestError, "4xx"),
    (UpstreamResponseError, "bad_response"),
    (ModelUnavailableError, "unavailable"),
)


def fallback_metric(outcome: str) -> str:
    """The ``paretoroute_fallbacks_total`` reason for leaving a model after ``outcome``."""
    if outcome == CIRCUIT_OPEN:
        return CIRCUIT_OPEN
    for kind in _KINDS.values():
        if kind.reason == outcome:
            return kind.metric
    return "upstream_error"


def classify(error: RouterError) -> FailureKind | None:
    """The kind of ``error``; None for errors that are not the upstream's (never retried)."""
    for error_type, key in _BY_TYPE:
        if isinstance(error, error_type):
            return _KINDS[key]
    if isinstance(error, UpstreamError):
        status = error.upstream_status
        return _KINDS["5xx"] if status is not None and status >= 500 else _KINDS["other"]
    return None


@dataclass(frozen=True, slots=True)
class Backoff:
    """Full-jitter exponential backoff, honouring (capped) ``retry-after``."""

    base_s: float
    max_s: float
    retry_after_max_s: float

    def delay(self, retry: int, error: RouterError, rng: random.Random) -> float | None:
        """Seconds to wait before retry number ``retry`` (0-based); None: do not retry.

        A ``retry-after`` longer than ``retry_after_max_s`` means falling back beats
        waiting.
        """
        jitter = rng.uniform(0.0, min(self.max_s, self.base_s * 2**retry))
        if isinstance(error, UpstreamRateLimitError) and error.retry_after_s is not None:
            if error.retry_after_s > self.retry_after_max_s:
                return None
            return max(error.retry_after_s, jitter)
        return jitter
