"""What the request log keeps of a ``Capture``, in plain values that cross to another process.

A ``Capture`` holds live objects: the routing ``Plan`` (its catalog model, its upstream
target with an API key, numpy arrays). ``record_of`` copies out only what a row needs:
the raw bytes, the timings, and the decision's per-model columns as lists. It is a few
attribute reads and list copies (~7 us); parsing, pricing and building the row happen
where the ``Record`` is written (``router.requestlog.rows``), in the writer process by
default (``router.requestlog.child``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from router.request_ids import new_request_id
from router.requestlog.capture import Capture
from router.requestlog.preferences_json import preferences_json


@dataclass(slots=True)
class DecisionRecord:
    """One routing decision: the chosen reason and every model's predicted columns."""

    profile: str
    reason: str
    decision_ms: float
    preferences: dict[str, Any]
    models: list[str]
    quality: list[float]
    cost_usd: list[float]
    runtime_s: list[float]
    completion_tokens: list[float]
    utility: list[float]
    on_front: list[bool]
    feasible: list[bool]
    infeasible_reason: list[str | None]


@dataclass(slots=True)
class Record:
    """One finished request as the log stores it (``perf_counter`` times of this process)."""

    request_id: str
    endpoint: str
    created: float
    started: float
    request: bytes
    response: bytes
    status_code: int
    response_started: float | None
    finished: float | None
    raised: bool
    planned_at: float | None
    chosen_model: str | None
    predicted_cost_usd: float | None
    decision: DecisionRecord | None


def record_of(capture: Capture) -> Record:
    """The ``Record`` of a finished capture."""
    plan = capture.plan
    request_id = capture.request_id
    if request_id is None:
        request_id = plan.request_id if plan is not None else new_request_id()
    decision = None
    if plan is not None and plan.outcome is not None:
        outcome = plan.outcome
        table, chosen = outcome.table, outcome.decision
        decision = DecisionRecord(
            profile=outcome.profile,
            reason=chosen.reason,
            decision_ms=outcome.decision_ms,
            preferences=preferences_json(chosen.preferences),
            models=list(table.models),
            quality=table.quality.tolist(),
            cost_usd=table.cost_usd.tolist(),
            runtime_s=table.runtime_s.tolist(),
            completion_tokens=outcome.scores.completion_tokens[0].tolist(),
            utility=chosen.utility.tolist(),
            on_front=chosen.on_front.tolist(),
            feasible=chosen.feasible.tolist(),
            infeasible_reason=list(chosen.infeasible_reason),
        )
    return Record(
        request_id=request_id,
        endpoint=capture.endpoint,
        created=capture.created,
        started=capture.started,
        request=b"".join(capture.request_body),
        response=b"".join(capture.response_body),
        status_code=capture.status_code,
        response_started=capture.response_started,
        finished=capture.finished,
        raised=capture.raised,
        planned_at=capture.planned_at,
        chosen_model=plan.model.name if plan is not None else None,
        predicted_cost_usd=plan.predicted_cost_usd if plan is not None else None,
        decision=decision,
    )
