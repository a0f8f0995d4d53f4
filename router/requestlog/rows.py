"""From a ``Capture`` (and its ``Plan``) to one complete ``requests`` row.

The per-model prediction table and the preferences applied come from the plan's
``DecisionOutcome``; tokens, text and errors from the captured bytes; the realized cost
from the router's own cost rule on the reported usage. Runs on the writer thread.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, fields
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from router.request_ids import new_request_id
from router.requestlog.capture import Capture
from router.requestlog.responses import ResponseFacts, json_object, prompt_text, response_facts

if TYPE_CHECKING:
    from policies import Preferences
    from router.engine import DecisionOutcome

#: (model name, prompt tokens, completion tokens) → USD, the router's cost rule.
CostRule = Callable[[str, int, int], float]
NAMED_REASON = "requested by name"


def finite(value: Any) -> float | None:
    """A JSON-safe float: NaN and infinities become None."""
    number = float(value)
    return number if math.isfinite(number) else None


def _json_value(value: Any) -> Any:
    if isinstance(value, frozenset | set):
        return sorted(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return finite(value)
    return value


@lru_cache(maxsize=256)
def preferences_json(preferences: Preferences) -> dict[str, Any]:
    """The applied policy preferences as a JSON object (cached: profiles repeat)."""
    return {f.name: _json_value(getattr(preferences, f.name)) for f in fields(preferences)}


def prediction_table(outcome: DecisionOutcome) -> list[dict[str, Any]]:
    """One entry per catalog model: what was predicted and whether it could be chosen.

    NaN (an unknown price) stays NaN here; the engine's JSON serializer writes null.
    """
    table, decision = outcome.table, outcome.decision
    columns = zip(
        table.models,
        table.quality.tolist(),
        table.cost_usd.tolist(),
        table.runtime_s.tolist(),
        outcome.scores.completion_tokens[0].tolist(),
        decision.utility.tolist(),
        decision.on_front.tolist(),
        decision.feasible.tolist(),
        decision.infeasible_reason,
        strict=True,
    )
    return [
        {
            "model": model,
            "quality": quality,
            "cost_usd": cost,
            "runtime_s": runtime,
            "completion_tokens": tokens,
            "utility": utility,
            "on_front": on_front,
            "feasible": feasible,
            "reason": reason,
        }
        for model, quality, cost, runtime, tokens, utility, on_front, feasible, reason in columns
    ]


def _decision_columns(capture: Capture) -> dict[str, Any]:
    plan = capture.plan
    if plan is None:
        return {"chosen_model": None, "decision_reason": None, "predicted_cost_usd": None}
    outcome = plan.outcome
    columns: dict[str, Any] = {
        "chosen_model": plan.model.name,
        "predicted_cost_usd": finite(plan.predicted_cost_usd),
        "decision_reason": NAMED_REASON if outcome is None else outcome.decision.reason,
    }
    if outcome is not None:
        columns |= {
            "profile": outcome.profile,
            "preferences": preferences_json(outcome.decision.preferences),
            "predictions": prediction_table(outcome),
            "decision_ms": outcome.decision_ms,
        }
    return columns


def _timings(capture: Capture, facts_stream: bool) -> dict[str, float | None]:
    end = capture.finished or capture.response_started
    upstream_end = end if facts_stream else capture.response_started
    upstream = None
    if capture.planned_at is not None and upstream_end is not None:
        upstream = (upstream_end - capture.planned_at) * 1000.0
    total = ((end or capture.started) - capture.started) * 1000.0
    return {"upstream_ms": upstream, "total_ms": total}


def _error_code(capture: Capture, facts: ResponseFacts) -> str | None:
    if facts.error_code is not None:
        return facts.error_code
    if capture.raised or capture.status_code == 0:
        return "internal"
    if capture.finished is None:
        return "incomplete_response"
    return None


def _request_id(capture: Capture) -> str:
    if capture.request_id is not None:
        return capture.request_id
    return capture.plan.request_id if capture.plan is not None else new_request_id()


@dataclass(frozen=True, slots=True)
class RowBuilder:
    """Builds ``requests`` rows; knows the cost rule, the scorer and the content switch."""

    cost_rule: CostRule
    scorer: str
    log_content: bool

    def _cost(self, model: str | None, facts: ResponseFacts) -> float | None:
        if model is None or facts.prompt_tokens is None or facts.completion_tokens is None:
            return None
        return finite(self.cost_rule(model, facts.prompt_tokens, facts.completion_tokens))

    def build(self, capture: Capture) -> dict[str, Any]:
        """The complete row for one captured request."""
        request = json_object(b"".join(capture.request_body))
        raw = b"".join(capture.response_body)
        facts = response_facts(raw)
        requested = request.get("model")
        row: dict[str, Any] = {
            "id": _request_id(capture),
            "created_at": datetime.fromtimestamp(capture.created, UTC),
            "caller_key_id": None,
            "endpoint": capture.endpoint,
            "requested_model": requested[:256] if isinstance(requested, str) else None,
            "profile": None,
            "preferences": None,
            "predictions": None,
            "decision_ms": None,
            "scorer": self.scorer if capture.plan and capture.plan.outcome else None,
            "fallback_chain": [],
            "prompt_tokens": facts.prompt_tokens,
            "completion_tokens": facts.completion_tokens,
            "stream": request.get("stream") is True,
            "status_code": capture.status_code or 500,
            "error_code": _error_code(capture, facts),
            "prompt_text": prompt_text(request) if self.log_content else None,
            "completion_text": facts.text if self.log_content else None,
        }
        row |= _decision_columns(capture)
        row |= _timings(capture, raw.startswith(b"data: "))
        row["cost_usd"] = self._cost(row["chosen_model"], facts)
        return row
