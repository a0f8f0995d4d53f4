"""From a validated request to a plan: which model, why, what it should cost, which headers.

A named catalog model is forwarded as asked (no scoring; its predicted cost uses the
engine's length prior). ``auto`` and ``auto:<profile>`` are decided by
``DecisionEngine.decide`` on scores batched by ``ScoreBatcher``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import dataclass

from policies import Preferences
from predictors.base import Prompt
from predictors.tokens import count_prompt_tokens
from router.auth.allowlist import check_named, narrow
from router.auth.context import current_caller
from router.batching import ScoreBatcher
from router.catalog import BUILTIN_REPLAY, CatalogModel
from router.engine import DecisionEngine, DecisionOutcome
from router.errors import ModelUnavailableError
from router.request_ids import new_request_id
from router.schemas import ChatCompletionRequest, CompletionRequest
from router.selection import (
    ModelChoice,
    build_preferences,
    header_preferences,
    resolve_model_field,
)
from router.spend import SpendControl
from router.upstream.base import UpstreamTarget


@dataclass(frozen=True, slots=True)
class Plan:
    """Where one request goes and what the router tells the caller about it."""

    request_id: str
    model: CatalogModel
    target: UpstreamTarget
    predicted_cost_usd: float
    outcome: DecisionOutcome | None

    def headers(self) -> dict[str, str]:
        """The ``x-paretoroute-*`` response headers."""
        headers = {
            "x-paretoroute-model": self.model.name,
            "x-paretoroute-request-id": self.request_id,
            "x-paretoroute-predicted-cost-usd": f"{self.predicted_cost_usd:.8f}",
            "x-paretoroute-decision-ms": "0.000",
        }
        if self.outcome is not None:
            headers["x-paretoroute-decision-ms"] = f"{self.outcome.decision_ms:.3f}"
            headers["x-paretoroute-profile"] = self.outcome.profile
            if self.outcome.decision.fell_back:
                failed = self.outcome.decision.failed_constraint or "constraints"
                headers["x-paretoroute-fallback"] = f"no model met {failed}"
        return headers


def request_prompt(body: ChatCompletionRequest | CompletionRequest) -> Prompt:
    """The prompt the predictors see (and whose tokens are counted)."""
    if isinstance(body, ChatCompletionRequest):
        return [m.model_dump(exclude_none=True) for m in body.messages]
    return body.prompt if isinstance(body.prompt, str) else "\n".join(body.prompt)


def upstream_target(model: CatalogModel, timeout_s: float, reason: str) -> UpstreamTarget:
    """How to call ``model``; 503 when its key variable is not set.

    The built-in replay server gets the decision's reason in a header so its simulated
    answers can say why the model was chosen.
    """
    if model.missing_key():
        raise ModelUnavailableError(
            f"Model {model.name!r} was chosen but its API key variable "
            f"{model.config.api_key_env} is not set on the router.",
            param="model",
        )
    headers: tuple[tuple[str, str], ...] = ()
    if model.config.api_base == BUILTIN_REPLAY:
        ascii_reason = reason.encode("ascii", "replace").decode("ascii")
        headers = (("x-paretoroute-reason", ascii_reason[:1000]),)
    return UpstreamTarget(
        model=model.name,
        litellm_model=model.config.litellm_model,
        api_base=model.config.api_base,
        api_key=model.api_key(),
        timeout_s=timeout_s,
        headers=headers,
    )


class Planner:
    """Builds a ``Plan`` for each request; holds the per-catalog constants."""

    def __init__(
        self,
        engine: DecisionEngine,
        timeout_s: float,
        spend: SpendControl,
        batcher: ScoreBatcher,
    ) -> None:
        self.engine = engine
        self.batcher = batcher
        self.catalog = engine.catalog
        self.timeout_s = timeout_s
        self.spend = spend
        #: The merged preferences of each profile for requests that set none of their own
        #: (almost all): parsing and merging a profile's fields is ~25 us, the same each time.
        self._plain: dict[str, tuple[str, Preferences]] = {}

    def _preferences(
        self,
        choice: ModelChoice,
        body: ChatCompletionRequest | CompletionRequest,
        headers: Mapping[str, str],
    ) -> tuple[str, Preferences]:
        header = header_preferences(headers)
        if header is not None or body.router is not None:
            return build_preferences(choice, self.catalog, header, body.router)
        found = self._plain.get(choice.profile)
        if found is None:
            found = build_preferences(choice, self.catalog, None, None)
            self._plain[choice.profile] = found
        return found

    async def decide(
        self, body: ChatCompletionRequest | CompletionRequest, headers: Mapping[str, str]
    ) -> tuple[DecisionOutcome | None, CatalogModel, float]:
        """Decide (or take the named model); return the outcome, the model and its cost."""
        prompt = request_prompt(body)
        choice = resolve_model_field(body.model, self.catalog)
        caller = current_caller()
        if choice.direct is not None:
            check_named(choice.direct.name, caller)
            index = self.catalog.positions[choice.direct.name]
            cost = self.engine.named_cost(index, count_prompt_tokens(prompt))
            return None, choice.direct, cost
        profile, prefs = self._preferences(choice, body, headers)
        prefs = narrow(profile, prefs, caller, self.catalog)
        prefs = self.spend.apply(profile, prefs)
        started = time.perf_counter()
        scores, prompt_tokens = await self.batcher.score_counted(prompt)  # on a thread under load
        outcome = self.engine.decide(
            scores,
            prompt_tokens,
            prefs,
            profile=profile,
            max_output_tokens=body.output_token_limit(),
            started=started,
        )
        index = outcome.decision.index
        cost = float(outcome.table.cost_usd[index])
        # A model without a price (a quality-only pool) counts as free in headers and
        # spend metrics, never NaN.
        return outcome, self.catalog.models[index], cost if math.isfinite(cost) else 0.0

    async def plan(
        self, body: ChatCompletionRequest | CompletionRequest, headers: Mapping[str, str]
    ) -> Plan:
        """The full plan, including the upstream target."""
        outcome, model, cost = await self.decide(body, headers)
        reason = outcome.decision.reason if outcome else "requested by name"
        return Plan(
            request_id=new_request_id(),
            model=model,
            target=upstream_target(model, self.timeout_s, reason),
            predicted_cost_usd=cost,
            outcome=outcome,
        )
