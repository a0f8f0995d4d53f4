"""From a ``Record`` (router.requestlog.records) to one complete ``requests`` row.

The per-model prediction table and the preferences applied come from the record's
decision; tokens, text and errors from the captured bytes; the realized cost from the
router's own cost rule on the reported usage. Runs where the rows are written: the
writer process by default, else the writer thread.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from router.requestlog.preferences_json import finite
from router.requestlog.records import DecisionRecord, Record
from router.requestlog.responses import ResponseFacts, json_object, prompt_text, response_facts

#: (model name, prompt tokens, completion tokens) → USD, the router's cost rule.
CostRule = Callable[[str, int, int], float]
NAMED_REASON = "requested by name"


def prediction_table(decision: DecisionRecord) -> list[dict[str, Any]]:
    """One entry per catalog model: what was predicted and whether it could be chosen.

    NaN (an unknown price) stays NaN here; the engine's JSON serializer writes null.
    """
    columns = zip(
        decision.models,
        decision.quality,
        decision.cost_usd,
        decision.runtime_s,
        decision.completion_tokens,
        decision.utility,
        decision.on_front,
        decision.feasible,
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


def _decision_columns(record: Record) -> dict[str, Any]:
    if record.chosen_model is None or record.predicted_cost_usd is None:
        return {"chosen_model": None, "decision_reason": None, "predicted_cost_usd": None}
    decision = record.decision
    columns: dict[str, Any] = {
        "chosen_model": record.chosen_model,
        "predicted_cost_usd": finite(record.predicted_cost_usd),
        "decision_reason": NAMED_REASON if decision is None else decision.reason,
    }
    if decision is not None:
        columns |= {
            "profile": decision.profile,
            "preferences": decision.preferences,
            "predictions": prediction_table(decision),
            "decision_ms": decision.decision_ms,
        }
    return columns


def _timings(record: Record, facts_stream: bool) -> dict[str, float | None]:
    end = record.finished or record.response_started
    upstream_end = end if facts_stream else record.response_started
    upstream = None
    if record.planned_at is not None and upstream_end is not None:
        upstream = (upstream_end - record.planned_at) * 1000.0
    total = ((end or record.started) - record.started) * 1000.0
    return {"upstream_ms": upstream, "total_ms": total}


def _error_code(record: Record, facts: ResponseFacts) -> str | None:
    if facts.error_code is not None:
        return facts.error_code
    if record.raised or record.status_code == 0:
        return "internal"
    if record.finished is None:
        return "incomplete_response"
    return None


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

    def build(self, record: Record) -> dict[str, Any]:
        """The complete row for one recorded request."""
        request = json_object(record.request)
        facts = response_facts(record.response)
        requested = request.get("model")
        row: dict[str, Any] = {
            "id": record.request_id,
            "created_at": datetime.fromtimestamp(record.created, UTC),
            "caller_key_id": None,
            "endpoint": record.endpoint,
            "requested_model": requested[:256] if isinstance(requested, str) else None,
            "profile": None,
            "preferences": None,
            "predictions": None,
            "decision_ms": None,
            "scorer": self.scorer if record.decision is not None else None,
            "fallback_chain": [],
            "prompt_tokens": facts.prompt_tokens,
            "completion_tokens": facts.completion_tokens,
            "stream": request.get("stream") is True,
            "status_code": record.status_code or 500,
            "error_code": _error_code(record, facts),
            "prompt_text": prompt_text(request) if self.log_content else None,
            "completion_text": facts.text if self.log_content else None,
        }
        row |= _decision_columns(record)
        row |= _timings(record, record.response.startswith(b"data: "))
        row["cost_usd"] = self._cost(row["chosen_model"], facts)
        return row
