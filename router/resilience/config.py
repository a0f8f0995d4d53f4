"""Failover settings: ``PARETOROUTE_RESILIENCE__<FIELD>`` (nested in ``Settings``)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

MIB = 1024 * 1024


class ResilienceSettings(BaseModel):
    """Timeouts, retries, fallback, circuit breakers and response size caps.

    Per-model ``connect_timeout_s``, ``first_byte_timeout_s`` and ``timeout_s`` in the
    catalog override the timeouts here; the total timeout's global default is the
    catalog's ``upstream_timeout_s`` (or ``PARETOROUTE_UPSTREAM_TIMEOUT_S``).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    #: Opening a connection to an upstream.
    connect_timeout_s: float = Field(default=5.0, gt=0)
    #: The response head of a call / the first chunk of a stream (None: the total timeout).
    first_byte_timeout_s: float | None = Field(default=None, gt=0)
    #: Everything one request may spend upstream before its first byte reaches the
    #: caller: all attempts, backoff waits and fallbacks together.
    request_timeout_s: float = Field(default=120.0, gt=0)
    #: Retries of one model after a connection error, a 429 or a 5xx.
    max_retries: int = Field(default=1, ge=0, le=10)
    #: Upstream calls per request, all models together.
    max_attempts: int = Field(default=4, ge=1, le=20)
    #: Models tried after the chosen one (next feasible in the decision's ranking).
    max_fallback_hops: int = Field(default=2, ge=0, le=20)
    #: Whether a request naming a model may fall back to another one.
    fallback_named_models: bool = False
    #: Full-jitter exponential backoff: uniform(0, min(max, base * 2**retry)).
    backoff_base_s: float = Field(default=0.1, ge=0)
    backoff_max_s: float = Field(default=2.0, ge=0)
    #: A 429's ``retry-after`` is honoured up to this; longer means "fall back now".
    retry_after_max_s: float = Field(default=5.0, ge=0)
    #: Circuit breaker: open when, within the window, at least ``breaker_min_calls``
    #: calls were made and the failed share reaches ``breaker_failure_rate``.
    breaker_window_s: float = Field(default=30.0, gt=0)
    breaker_min_calls: int = Field(default=10, ge=1)
    breaker_failure_rate: float = Field(default=0.5, gt=0, le=1)
    #: How long an open circuit stays open before half-open probes.
    breaker_cooldown_s: float = Field(default=15.0, gt=0)
    #: Concurrent probe calls allowed while half-open.
    breaker_half_open_probes: int = Field(default=1, ge=1)
    #: With shared (Redis) breakers: trust a circuit this process saw closed for this
    #: long before asking Redis again (no round trip per request; 0 asks every time).
    breaker_refresh_s: float = Field(default=1.0, ge=0)
    #: Caps on what an upstream sends back.
    max_response_bytes: int = Field(default=16 * MIB, gt=0)
    max_sse_line_bytes: int = Field(default=1 * MIB, gt=0)
