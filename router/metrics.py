"""Prometheus metrics, one ``CollectorRegistry`` per app (never the global one).

With several uvicorn workers, ``paretoroute serve`` sets ``PROMETHEUS_MULTIPROC_DIR``
before the workers start: prometheus-client then keeps every value in a per-process
file there and ``/metrics`` sums them with ``MultiProcessCollector``. Each gauge says how
its per-worker values combine (``multiprocess_mode``). Without that variable (one
worker, tests) each app exposes its own registry.

Labels are bounded: catalog model names, profile names, endpoints, error codes and
classes, fallback reasons. Never prompt text, request ids or keys.
"""

from __future__ import annotations

import os

from prometheus_client import CollectorRegistry
from prometheus_client import multiprocess as prometheus_multiprocess

from router.metric_types import Counter, Gauge, Histogram

_LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5)
_UPSTREAM_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)
_RATIO_BUCKETS = (0.1, 0.25, 0.5, 0.67, 0.8, 0.9, 1.1, 1.25, 1.5, 2, 4, 10)
_QUALITY_BUCKETS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)

#: Why a request was served by another model than the first choice. The policy counts
#: ``no_feasible_model`` (no model met a hard constraint); failover counts the rest.
FALLBACK_REASONS = (
    "no_feasible_model",
    "upstream_error",
    "upstream_timeout",
    "rate_limited",
    "model_unavailable",
    "circuit_open",
)

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


def multiprocess_dir() -> str | None:
    """The shared metrics directory when running several workers, else None."""
    return os.environ.get(MULTIPROC_ENV) or None


class RouterMetrics:
    """The router's series. Label values are catalog names, profiles and error codes."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        self._add_request_series(self.registry)
        self._add_prediction_series(self.registry)
        self._add_state_series(self.registry)

    def _add_request_series(self, r: CollectorRegistry) -> None:
        self.requests = Counter(
            "paretoroute_requests",
            "Generation requests by endpoint, model used, profile and outcome "
            "(ok, error, client_disconnected).",
            ["endpoint", "model", "profile", "outcome"],
            registry=r,
        )
        self.errors = Counter(
            "paretoroute_errors",
            "Error responses by HTTP status, error code and model ('' before one is known).",
            ["status", "code", "model"],
            registry=r,
        )
        self.upstream_errors = Counter(
            "paretoroute_upstream_errors",
            "Upstream failures by model and class (timeout, rate_limited, client_error, "
            "server_error, connection).",
            ["model", "error_class"],
            registry=r,
        )
        self.fallbacks = Counter(
            "paretoroute_fallbacks",
            "Requests served by a fallback, by reason.",
            ["reason"],
            registry=r,
        )
        for reason in FALLBACK_REASONS:
            self.fallbacks.labels(reason)
        self.request_seconds = Histogram(
            "paretoroute_request_seconds",
            "End-to-end duration of generation requests (to the last byte for streams).",
            ["model"],
            buckets=_UPSTREAM_BUCKETS,
            registry=r,
        )
        self.retries = Counter(
            "paretoroute_retries",
            "Retries of the same model, by the failure retried.",
            ["reason"],
            registry=r,
        )
        self.decision_seconds = Histogram(
            "paretoroute_decision_seconds",
            "Time to decide (score + estimate + policy) for routed requests.",
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.upstream_seconds = Histogram(
            "paretoroute_upstream_seconds",
            "Upstream call duration (to the last byte for streams).",
            ["model"],
            buckets=_UPSTREAM_BUCKETS,
            registry=r,
        )
        self.ttft_seconds = Histogram(
            "paretoroute_time_to_first_token_seconds",
            "Streams: from the request reaching the router to the upstream's first chunk.",
            ["model"],
            buckets=_UPSTREAM_BUCKETS,
            registry=r,
        )

    def _add_prediction_series(self, r: CollectorRegistry) -> None:
        self.predicted_cost = Counter(
            "paretoroute_predicted_cost_usd",
            "Sum of the predicted cost of served requests.",
            ["model"],
            registry=r,
        )
        self.actual_cost = Counter(
            "paretoroute_cost_usd",
            "Sum of the cost of served requests from the upstream's reported token usage.",
            ["model"],
            registry=r,
        )
        self.reference_cost = Counter(
            "paretoroute_reference_cost_usd",
            "Predicted cost of the same requests on the reference model (savings = this "
            "minus paretoroute_cost_usd), by the model that actually served.",
            ["model"],
            registry=r,
        )
        self.tokens = Counter(
            "paretoroute_tokens",
            "Tokens reported by upstreams.",
            ["model", "kind"],
            registry=r,
        )
        self.predicted_completion_tokens = Counter(
            "paretoroute_predicted_completion_tokens",
            "Predicted completion tokens of requests whose upstream reported usage.",
            ["model"],
            registry=r,
        )
        self.completion_ratio = Histogram(
            "paretoroute_completion_tokens_ratio",
            "Realized / predicted completion tokens per served request.",
            ["model"],
            buckets=_RATIO_BUCKETS,
            registry=r,
        )
        self.predicted_quality = Histogram(
            "paretoroute_predicted_quality",
            "Predicted quality of the chosen model for routed requests.",
            ["model"],
            buckets=_QUALITY_BUCKETS,
            registry=r,
        )

    def _add_state_series(self, r: CollectorRegistry) -> None:
        self.in_flight = Gauge(
            "paretoroute_in_flight_requests",
            "Generation requests being served now.",
            registry=r,
            multiprocess_mode="livesum",
        )
        self.workers = Gauge(
            "paretoroute_workers",
            "Live server worker processes.",
            registry=r,
            multiprocess_mode="livesum",
        )
        self.build_info = Gauge(
            "paretoroute_build_info",
            "Info metric (always 1): the loaded predictor artifact and the catalog's hash.",
            ["artifact", "catalog_hash"],
            registry=r,
            multiprocess_mode="livemax",
        )
        self.cost_weight = Gauge(
            "paretoroute_spend_cost_weight",
            "Current cost_weight of spend-controlled profiles (one controller per worker).",
            ["profile"],
            registry=r,
            multiprocess_mode="liveall",
        )
        self.spend_rate = Gauge(
            "paretoroute_spend_rate_usd_per_hour",
            "Measured spend rate of spend-controlled profiles (summed over workers).",
            ["profile"],
            registry=r,
            multiprocess_mode="livesum",
        )
        self.spend_target = Gauge(
            "paretoroute_spend_target_usd_per_hour",
            "Target spend rate of spend-controlled profiles (summed over workers).",
            ["profile"],
            registry=r,
            multiprocess_mode="livesum",
        )
        self.circuit_state = Gauge(
            "paretoroute_circuit_state",
            "Circuit breaker state per model as this process last saw it: 0 closed, "
            "1 half-open, 2 open (the worst over workers). Shared across replicas with Redis.",
            ["model"],
            registry=r,
            multiprocess_mode="livemax",
        )
        self.auth_failures = Counter(
            "paretoroute_auth_failures",
            "Requests refused with 401/403 by reason (missing, invalid, not_master, model).",
            ["reason"],
            registry=r,
        )
        self.limit_rejections = Counter(
            "paretoroute_limit_rejections",
            "Requests refused by a caller limit or budget, by reason.",
            ["reason"],
            registry=r,
        )
        self.concurrency_rejections = Counter(
            "paretoroute_concurrency_rejections",
            "Requests refused with 503 because the server was at max_concurrent_requests.",
            registry=r,
        )
        self.read_timeouts = Counter(
            "paretoroute_read_timeouts",
            "Requests cut off because the client sent its body too slowly.",
            registry=r,
        )
        self.state_errors = Counter(
            "paretoroute_state_backend_errors",
            "Shared-state backend (Redis) errors or skipped calls, by mechanism.",
            ["mechanism"],
            registry=r,
        )

    def exposition_registry(self) -> CollectorRegistry:
        """What ``/metrics`` renders: every worker's values when multiprocess, else ours."""
        directory = multiprocess_dir()
        if directory is None:
            return self.registry
        merged = CollectorRegistry()
        prometheus_multiprocess.MultiProcessCollector(merged, path=directory)
        return merged

    def close(self) -> None:
        """At worker exit: drop this process's live gauges from the shared directory."""
        directory = multiprocess_dir()
        if directory is not None:
            prometheus_multiprocess.mark_process_dead(os.getpid(), path=directory)
