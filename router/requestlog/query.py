"""Reading the request log: recent rows, rows since a time, and spend/savings/mix stats.

One definition of savings, used by ``paretoroute log stats``: for each answered routed
request, the predicted cost of the most expensive model in its prediction table minus
what the request cost (realized from reported usage, else predicted).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, select

from router.requestlog.schema import REQUEST_COLUMNS, FeedbackRow, RequestRow

_DURATION = re.compile(r"^(\d+(?:\.\d+)?)([smhdw])$")
_UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_since(text: str, now: datetime | None = None) -> datetime:
    """``1h``, ``30m``, ``2d``, ``1w`` ago, or an ISO time (UTC when no zone is given)."""
    match = _DURATION.match(text.strip())
    if match:
        seconds = float(match.group(1)) * _UNIT_S[match.group(2)]
        return (now or datetime.now(UTC)) - timedelta(seconds=seconds)
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"not a duration (1h, 30m, 2d) or an ISO time: {text!r}") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def tail(engine: Engine, count: int) -> list[RequestRow]:
    """The ``count`` newest rows, oldest first."""
    query = select(RequestRow).order_by(RequestRow.created_at.desc()).limit(count)
    with engine.connect() as connection:
        rows = [_detached(row) for row in connection.execute(query).mappings()]
    return rows[::-1]


def _detached(mapping: Any) -> RequestRow:
    return RequestRow(**{name: mapping[name] for name in REQUEST_COLUMNS})


#: Feedback columns joined onto exported rows (None where no feedback was given).
FEEDBACK_COLUMNS = ("feedback_score", "feedback_thumbs", "feedback_label", "feedback_comment")
EXPORT_COLUMNS = (*REQUEST_COLUMNS, *FEEDBACK_COLUMNS)


def rows_since(engine: Engine, since: datetime | None) -> Iterator[dict[str, Any]]:
    """Every request column plus its feedback, for rows since ``since`` (all when None)."""
    feedback = [
        getattr(FeedbackRow, name.removeprefix("feedback_")).label(name)
        for name in FEEDBACK_COLUMNS
    ]
    query = (
        select(*RequestRow.__table__.columns, *feedback)
        .outerjoin(FeedbackRow, FeedbackRow.request_id == RequestRow.id)
        .order_by(RequestRow.created_at)
    )
    if since is not None:
        query = query.where(RequestRow.created_at >= since)
    with engine.connect() as connection:
        for mapping in connection.execute(query.execution_options(yield_per=1000)).mappings():
            yield dict(mapping)


@dataclass
class ModelShare:
    """One model's part of the traffic in a window."""

    requests: int = 0
    errors: int = 0
    spend_usd: float = 0.0


@dataclass
class LogStats:
    """Spend, savings and model mix over a window."""

    requests: int = 0
    errors: int = 0
    routed: int = 0
    spend_usd: float = 0.0
    reference_usd: float = 0.0
    routed_spend_usd: float = 0.0
    models: dict[str, ModelShare] = field(default_factory=dict)

    @property
    def savings_usd(self) -> float:
        """Reference cost minus spend, over answered routed requests."""
        return self.reference_usd - self.routed_spend_usd

    def add(self, row: dict[str, Any]) -> None:
        """Account for one row."""
        self.requests += 1
        failed = row["status_code"] >= 400 or row["error_code"] is not None
        self.errors += failed
        cost = request_cost(row)
        self.spend_usd += cost
        share = self.models.setdefault(row["chosen_model"] or "(none)", ModelShare())
        share.requests += 1
        share.errors += failed
        share.spend_usd += cost
        reference = reference_cost(row["predictions"])
        if reference is not None and not failed:
            self.routed += 1
            self.reference_usd += reference
            self.routed_spend_usd += cost


def request_cost(row: dict[str, Any]) -> float:
    """What one request cost: realized when usage was reported, else predicted, else 0."""
    if row.get("cost_usd") is not None:
        return float(row["cost_usd"])
    if row["status_code"] < 400 and row.get("predicted_cost_usd") is not None:
        return float(row["predicted_cost_usd"])
    return 0.0


def reference_cost(predictions: list[dict[str, Any]] | None) -> float | None:
    """The predicted cost of the most expensive model in a prediction table."""
    costs = [p["cost_usd"] for p in predictions or () if p.get("cost_usd") is not None]
    return max(costs) if costs else None


_STATS_COLUMNS = ("chosen_model", "status_code", "error_code", "cost_usd", "predicted_cost_usd")


def stats(engine: Engine, since: datetime | None) -> LogStats:
    """Spend, savings and model mix of the rows since ``since``."""
    table = RequestRow.__table__
    query = select(*(table.c[name] for name in (*_STATS_COLUMNS, "predictions")))
    if since is not None:
        query = query.where(RequestRow.created_at >= since)
    result = LogStats()
    with engine.connect() as connection:
        for mapping in connection.execute(query.execution_options(yield_per=1000)).mappings():
            result.add(dict(mapping))
    return result
