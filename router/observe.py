"""What the metrics see of each request, kept out of the handlers.

``ObserveRequests`` (outermost ASGI middleware) wraps every generation request in a
``RequestWatch``: in flight from the first byte in to the last byte out, counted once by
outcome, its end-to-end time observed. Handlers only tell the watch what they learn
(``planned``, ``first_chunk``, ``failed_midstream``); the edge counts errors with the
watch's model. ``Observer`` records what a served request predicted against what it cost,
and what the reference model would have cost.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import orjson
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from policies.cost import Estimates
from router.catalog import Catalog
from router.errors import RouterError, UpstreamError, UpstreamTimeoutError
from router.metrics import RouterMetrics
from router.planning import Plan

GENERATION_PATHS = {"/v1/chat/completions": "chat", "/v1/completions": "text"}
_STATE_KEY = "paretoroute_watch"


class RequestWatch:
    """One generation request as the metrics see it."""

    def __init__(self, metrics: RouterMetrics, endpoint: str) -> None:
        self.metrics = metrics
        self.endpoint = endpoint
        self.started = time.perf_counter()
        self.model = ""
        self.profile = ""
        self.failed = False

    def requested(self, model_field: str, catalog: Catalog) -> None:
        """A request that names a catalog model carries its name before planning."""
        if model_field in catalog.positions:
            self.model = model_field

    def planned(self, plan: Plan) -> None:
        """The model is known: later counts carry it; record the decision's facts."""
        self.model = plan.model.name
        outcome = plan.outcome
        if outcome is None:
            return
        self.profile = outcome.profile
        quality = float(outcome.table.quality[outcome.decision.index])
        self.metrics.predicted_quality.labels(self.model).observe(quality)
        if outcome.decision.fell_back:
            self.metrics.fallbacks.labels("no_feasible_model").inc()

    def first_chunk(self) -> None:
        """A stream's first chunk arrived from the upstream."""
        elapsed = time.perf_counter() - self.started
        self.metrics.ttft_seconds.labels(self.model).observe(elapsed)

    def failed_midstream(self, error: RouterError) -> None:
        """A stream broke after its headers were sent (the status stays 200)."""
        self.failed = True
        count_error(self.metrics, error, self.model)

    def finish(self, status: int | None, completed: bool, raised: bool) -> None:
        """Count the request once, by outcome, and its end-to-end time.

        A response that neither finished nor failed was cut by the caller leaving.
        """
        if raised or self.failed or (status is not None and status >= 400):
            outcome = "error"
        elif not completed:
            outcome = "client_disconnected"
            self.metrics.errors.labels("499", "client_disconnected", self.model).inc()
        else:
            outcome = "ok"
        self.metrics.requests.labels(self.endpoint, self.model, self.profile, outcome).inc()
        elapsed = time.perf_counter() - self.started
        self.metrics.request_seconds.labels(self.model).observe(elapsed)


def watch_of(request: Request) -> RequestWatch | None:
    """The watch ``ObserveRequests`` put on this request, if it is a generation request."""
    watch = request.scope.get("state", {}).get(_STATE_KEY)
    return watch if isinstance(watch, RequestWatch) else None


def note_requested_model(request: Request, body: Any) -> None:
    """A body that failed validation may still name a catalog model: its error carries it."""
    watch = watch_of(request)
    services = getattr(request.app.state, "services", None)
    if watch is not None and services is not None and isinstance(body, dict):
        model = body.get("model")
        if isinstance(model, str):
            watch.requested(model, services.catalog)


def error_class(error: UpstreamError) -> str:
    """A bounded class for an upstream failure."""
    status = error.upstream_status
    if isinstance(error, UpstreamTimeoutError):
        return "timeout"
    if status == 429:
        return "rate_limited"
    if status is not None and 400 <= status < 500:
        return "client_error"
    if status is not None and status >= 500:
        return "server_error"
    return "connection"


def count_error(metrics: RouterMetrics, error: RouterError, model: str) -> None:
    """Count an error response (and its upstream class, if it came from upstream)."""
    metrics.errors.labels(str(error.status_code), error.code or "", model).inc()
    if isinstance(error, UpstreamError):
        metrics.upstream_errors.labels(model, error_class(error)).inc()


class ObserveRequests:
    """Pure ASGI middleware: a ``RequestWatch`` around each generation request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        endpoint = GENERATION_PATHS.get(scope.get("path", "")) if scope["type"] == "http" else None
        services = getattr(scope["app"].state, "services", None) if "app" in scope else None
        if endpoint is None or services is None:
            await self.app(scope, receive, send)
            return
        metrics: RouterMetrics = services.metrics
        watch = RequestWatch(metrics, endpoint)
        scope.setdefault("state", {})[_STATE_KEY] = watch
        status: int | None = None
        completed = False
        traffic = services.in_flight

        async def tracking_send(message: Message) -> None:
            nonlocal status, completed
            if message["type"] == "http.response.start":
                status = int(message["status"])
            elif message["type"] == "http.response.body" and not message.get("more_body"):
                # Served: the next request may arrive before this one's tasks wind down
                # (a stream's disconnect listener, the task group), and must not count it.
                if not completed:
                    traffic.count -= 1
                completed = True
            await send(message)

        metrics.in_flight.inc()
        traffic.count += 1
        raised = True
        try:
            await self.app(scope, receive, tracking_send)
            raised = False
        finally:
            if not completed:
                traffic.count -= 1
            metrics.in_flight.dec()
            watch.finish(status, completed, raised)


def catalog_hash(catalog: Catalog) -> str:
    """A short, stable hash of the catalog's models and profiles (not its path)."""
    document = {
        "models": [m.config.model_dump(mode="json") for m in catalog.models],
        "profiles": {k: v.model_dump(mode="json") for k, v in catalog.profiles.items()},
        "default_profile": catalog.default_profile,
        "reference_model": catalog.reference_model,
    }
    return hashlib.sha256(orjson.dumps(document, option=orjson.OPT_SORT_KEYS)).hexdigest()[:12]


class CostModel(Protocol):
    """What the observer needs of the decision side: the catalog and its cost formula."""

    @property
    def catalog(self) -> Catalog:
        """The catalog whose order every score table follows."""
        ...

    def cost_of(self, index: int, prompt_tokens: int, completion_tokens: float) -> float:
        """The cost of one request on the model at ``index``."""
        ...

    def estimate(self, prompt_tokens: int, completion_tokens: Sequence[float]) -> Estimates:
        """Cost and runtime of one request on every catalog model, in catalog order."""
        ...


@dataclass(frozen=True, slots=True)
class Served:
    """Realized facts of one served request."""

    prompt_tokens: int
    completion_tokens: int
    cost_usd: float


class Observer:
    """Predicted vs realized, and the reference model's counterfactual cost.

    The reference is the catalog's ``reference_model``; without one, the model the
    prediction table rates highest for routed requests, and the most expensive model for
    requests that named a model.
    """

    def __init__(
        self, metrics: RouterMetrics, costs: CostModel, prior_tokens: list[float], artifact: str
    ) -> None:
        self.metrics = metrics
        self.costs = costs
        self.prior_tokens = prior_tokens
        catalog = costs.catalog
        self.reference = catalog.index(catalog.reference_model or "")
        metrics.build_info.labels(artifact, catalog_hash(catalog)).set(1)
        metrics.workers.set(1)

    def predicted_completion(self, plan: Plan, index: int) -> float:
        """The completion length the router predicted for ``index`` on this request."""
        if plan.outcome is None:
            return self.prior_tokens[index]
        return float(plan.outcome.scores.completion_tokens[0][index])

    def reference_cost(self, plan: Plan, prompt_tokens: int) -> float:
        """What this request would have cost on the reference model."""
        outcome = plan.outcome
        if outcome is not None:
            index = self.reference
            if index is None:
                index = int(np.argmax(outcome.table.quality))
            return float(outcome.table.cost_usd[index])
        if self.reference is not None:
            index = self.reference
            return self.costs.cost_of(index, prompt_tokens, self.prior_tokens[index])
        # One vectorized estimate over the catalog, not one per model: this runs per request.
        return max(self.costs.estimate(prompt_tokens, self.prior_tokens).cost_usd.tolist())

    def served(self, plan: Plan, served: Served) -> None:
        """Record one request the upstream answered with token usage."""
        model = plan.model.name
        index = self.costs.catalog.positions[model]
        predicted = self.predicted_completion(plan, index)
        self.metrics.predicted_completion_tokens.labels(model).inc(predicted)
        if predicted > 0:
            ratio = served.completion_tokens / predicted
            self.metrics.completion_ratio.labels(model).observe(ratio)
        reference = self.reference_cost(plan, served.prompt_tokens)
        self.metrics.reference_cost.labels(model).inc(reference)
