"""The request log's and feedback's Prometheus series, on the app's own registry.

Labels are bounded: drop reasons, catalog model names, profiles and feedback kinds;
never request ids.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter


class RequestLogMetrics:
    """Rows written and rows lost (queue full, unreadable capture, database error)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.written = Counter(
            "paretoroute_request_log_rows",
            "Request-log rows committed to the database.",
            registry=registry,
        )
        self.dropped = Counter(
            "paretoroute_request_log_dropped",
            "Request-log rows lost, by reason (queue_full, closed, invalid, write_error).",
            ["reason"],
            registry=registry,
        )
        self.writer_restarts = Counter(
            "paretoroute_request_log_writer_restarts",
            "Request-log writer processes started again after one died or failed to start.",
            registry=registry,
        )


class FeedbackMetrics:
    """Feedback received, by the served model and profile of the request it judges."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.received = Counter(
            "paretoroute_feedback",
            "Feedback accepted, by served model, profile, kind (score, thumbs_up, "
            "thumbs_down, label) and whether it replaced earlier feedback.",
            ["model", "profile", "kind", "updated"],
            registry=registry,
        )
        self.score = Counter(
            "paretoroute_feedback_score",
            "Sum of feedback scores in [0, 1] (divide by the score count for the mean).",
            ["model", "profile"],
            registry=registry,
        )
