"""Prometheus metrics, one ``CollectorRegistry`` per app (never the global one)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

_LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5)
_UPSTREAM_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)


class RouterMetrics:
    """The router's series. Label values are catalog names, profiles and error codes."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.requests = Counter(
            "paretoroute_requests",
            "Generation requests by endpoint, model used, profile and outcome.",
            ["endpoint", "model", "profile", "outcome"],
            registry=r,
        )
        self.errors = Counter(
            "paretoroute_errors",
            "Error responses by HTTP status and error code.",
            ["status", "code"],
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
        self.tokens = Counter(
            "paretoroute_tokens",
            "Tokens reported by upstreams.",
            ["model", "kind"],
            registry=r,
        )
        self.cost_weight = Gauge(
            "paretoroute_spend_cost_weight",
            "Current cost_weight of spend-controlled profiles.",
            ["profile"],
            registry=r,
        )
        self.spend_rate = Gauge(
            "paretoroute_spend_rate_usd_per_hour",
            "Measured spend rate of spend-controlled profiles.",
            ["profile"],
            registry=r,
        )
        self.spend_target = Gauge(
            "paretoroute_spend_target_usd_per_hour",
            "Target spend rate of spend-controlled profiles.",
            ["profile"],
            registry=r,
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
