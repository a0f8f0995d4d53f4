"""Feedback on logged requests: one judgement per request, a second one replaces it.

Feedback is stored in the request log's database, joined on the request id. A request
that is answered but still in the writer's queue is found by flushing the queue first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Literal

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from router.requestlog.metrics import FeedbackMetrics
from router.requestlog.schema import FeedbackRow, RequestRow

if TYPE_CHECKING:
    from router.requestlog.writer import RequestLog


@dataclass(frozen=True, slots=True)
class Judgement:
    """What a caller said about one request: exactly one of score, thumbs and label."""

    request_id: str
    score: float | None = None
    thumbs: Literal["up", "down"] | None = None
    label: str | None = None
    comment: str | None = None

    @property
    def kind(self) -> str:
        """``score``, ``thumbs_up``, ``thumbs_down`` or ``label`` (a metric label)."""
        if self.score is not None:
            return "score"
        return f"thumbs_{self.thumbs}" if self.thumbs is not None else "label"


@dataclass(frozen=True, slots=True)
class Stored:
    """The outcome of storing a judgement."""

    request_id: str
    model: str | None
    profile: str | None
    updated: bool


class FeedbackStore:
    """Writes judgements next to the logged requests they judge."""

    def __init__(self, log: RequestLog, metrics: FeedbackMetrics) -> None:
        self.log = log
        self.metrics = metrics

    def record(self, judgement: Judgement) -> Stored | None:
        """Store (or replace) the judgement; None when no such request was logged."""
        stored = self._upsert_retrying(judgement)
        if stored is None and self.log.flush():
            stored = self._upsert_retrying(judgement)
        if stored is not None:
            self._count(judgement, stored)
        return stored

    def _count(self, judgement: Judgement, stored: Stored) -> None:
        model, profile = stored.model or "", stored.profile or ""
        updated = "true" if stored.updated else "false"
        self.metrics.received.labels(model, profile, judgement.kind, updated).inc()
        if judgement.score is not None:
            self.metrics.score.labels(model, profile).inc(judgement.score)

    def _upsert_retrying(self, judgement: Judgement) -> Stored | None:
        try:
            return self._upsert(judgement)
        except IntegrityError:
            # Two first judgements raced on the unique request id: the loser updates.
            return self._upsert(judgement)

    def _upsert(self, judgement: Judgement) -> Stored | None:
        with Session(self.log.engine) as session, session.begin():
            request = session.execute(
                select(RequestRow.chosen_model, RequestRow.profile).where(
                    RequestRow.id == judgement.request_id
                )
            ).first()
            if request is None:
                return None
            row = session.scalar(
                select(FeedbackRow).where(FeedbackRow.request_id == judgement.request_id)
            )
            now = datetime.now(UTC)
            updated = row is not None
            if row is None:
                row = FeedbackRow(request_id=judgement.request_id, created_at=now)
                session.add(row)
            row.score, row.thumbs = judgement.score, judgement.thumbs
            row.label, row.comment = judgement.label, judgement.comment
            row.updated_at = now
        return Stored(judgement.request_id, request.chosen_model, request.profile, updated)
