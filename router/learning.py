"""What the router learns after each served request: runtime fits, spend, metrics.

The policy layer holds the math (``RuntimeEstimator``, ``SpendRateController``); this
module feeds them, on the event loop, after the upstream answered. The runtime refits
(a robust fit over each model's last 512 latencies, ~1-3 ms every 32 requests per model)
run on a worker thread of their own, so they never hold the event loop.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from router.auth.context import record_usage
from router.engine import DecisionEngine
from router.gil import yield_gil
from router.metrics import RouterMetrics
from router.observe import Observer, Served
from router.planning import Plan
from router.spend import SpendControl

logger = logging.getLogger(__name__)


def usage_tokens(usage: Any) -> tuple[int, int] | None:
    """(prompt, completion) tokens from an OpenAI ``usage`` object, if present."""
    if not isinstance(usage, dict):
        return None
    prompt, completion = usage.get("prompt_tokens"), usage.get("completion_tokens")
    if isinstance(prompt, int) and isinstance(completion, int):
        return prompt, completion
    return None


class OnlineLearning:
    """Feeds one served request's usage and latency back into the router's state."""

    def __init__(
        self,
        engine: DecisionEngine,
        spend: SpendControl,
        metrics: RouterMetrics,
        observer: Observer | None = None,
    ) -> None:
        self.engine = engine
        self.spend = spend
        self.metrics = metrics
        self.observer = observer
        self._refits = ThreadPoolExecutor(max_workers=1, thread_name_prefix="runtime-refit")
        engine.runtime.run_refit = self._refit
        engine.runtime.refit_pause = yield_gil

    def _refit(self, fit: Callable[[], None]) -> None:
        self._refits.submit(fit).add_done_callback(_log_failure)

    def close(self) -> None:
        """Stop the refit thread (a fit in flight finishes; call at shutdown)."""
        self.engine.runtime.run_refit = None
        self._refits.shutdown(wait=True, cancel_futures=True)

    def served(self, plan: Plan, endpoint: str, usage: Any, latency_s: float) -> None:
        """Record a successful request (``router.observe`` counts it by outcome)."""
        model = plan.model.name
        profile = plan.outcome.profile if plan.outcome else ""
        self.metrics.upstream_seconds.labels(model).observe(latency_s)
        self.metrics.predicted_cost.labels(model).inc(plan.predicted_cost_usd)
        if plan.outcome is not None:
            self.metrics.decision_seconds.observe(plan.outcome.decision_ms / 1000.0)
        tokens = usage_tokens(usage)
        if tokens is None:
            # No usage reported (e.g. a stream without include_usage): charge the caller
            # the predicted cost rather than nothing.
            record_usage(plan.predicted_cost_usd, 0)
            return
        prompt_tokens, completion_tokens = tokens
        self.metrics.tokens.labels(model, "prompt").inc(prompt_tokens)
        self.metrics.tokens.labels(model, "completion").inc(completion_tokens)
        self.engine.runtime.observe(model, prompt_tokens, completion_tokens, latency_s)
        index = self.engine.catalog.positions[plan.model.name]
        cost = self.engine.cost_of(index, prompt_tokens, completion_tokens)
        self.metrics.actual_cost.labels(model).inc(cost)
        if self.observer is not None:
            self.observer.served(plan, Served(prompt_tokens, completion_tokens, cost))
        record_usage(cost, prompt_tokens + completion_tokens)
        if profile:
            self.spend.observe(profile, cost)


def _log_failure(done: Future[None]) -> None:
    error = done.exception() if not done.cancelled() else None
    if error is not None:
        logger.warning("runtime refit failed: %s: %s", type(error).__name__, error)
