"""The request log's tables, as SQLAlchemy 2 declarative models.

``requests`` keeps the whole decision (the per-model prediction table, the preferences
applied, why the model was chosen) next to what happened (tokens, cost, latency, status),
keyed by the stable ``x-paretoroute-request-id``, so feedback and retraining can join
predictions to outcomes. ``feedback`` holds at most one judgement per request.
Migrations in ``router/requestlog/migrations`` must match these models.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    TypeDecorator,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in and out, whether or not the backend keeps the zone."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


#: JSON columns: ``jsonb`` on PostgreSQL (indexable, queryable), JSON text elsewhere.
JSONDocument = JSON().with_variant(JSONB(), "postgresql")


class Base(DeclarativeBase):
    """Metadata of the request log."""


class RequestRow(Base):
    """One generation request: the decision, the outcome, optionally the content."""

    __tablename__ = "requests"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    caller_key_id: Mapped[str | None] = mapped_column(String(64))
    endpoint: Mapped[str] = mapped_column(String(16))
    requested_model: Mapped[str | None] = mapped_column(String(256))
    profile: Mapped[str | None] = mapped_column(String(64))
    preferences: Mapped[dict[str, Any] | None] = mapped_column(JSONDocument)
    #: One entry per catalog model: model, quality, cost_usd, runtime_s, completion_tokens,
    #: utility, on_front, feasible, reason.
    predictions: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONDocument)
    scorer: Mapped[str | None] = mapped_column(String(128))
    chosen_model: Mapped[str | None] = mapped_column(String(256), index=True)
    decision_reason: Mapped[str | None] = mapped_column(Text)
    fallback_chain: Mapped[list[str]] = mapped_column(JSONDocument)
    predicted_cost_usd: Mapped[float | None] = mapped_column(Float)
    prompt_tokens: Mapped[int | None] = mapped_column(Integer)
    completion_tokens: Mapped[int | None] = mapped_column(Integer)
    cost_usd: Mapped[float | None] = mapped_column(Float)
    decision_ms: Mapped[float | None] = mapped_column(Float)
    upstream_ms: Mapped[float | None] = mapped_column(Float)
    total_ms: Mapped[float] = mapped_column(Float)
    stream: Mapped[bool] = mapped_column(Boolean)
    status_code: Mapped[int] = mapped_column(Integer)
    error_code: Mapped[str | None] = mapped_column(String(64))
    prompt_text: Mapped[str | None] = mapped_column(Text)
    completion_text: Mapped[str | None] = mapped_column(Text)


class FeedbackRow(Base):
    """The caller's judgement of one request: exactly one of score, thumbs, label."""

    __tablename__ = "feedback"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    request_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("requests.id", ondelete="CASCADE"), unique=True
    )
    score: Mapped[float | None] = mapped_column(Float)
    thumbs: Mapped[str | None] = mapped_column(String(8))
    label: Mapped[str | None] = mapped_column(String(64))
    comment: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


REQUEST_COLUMNS: tuple[str, ...] = tuple(c.name for c in RequestRow.__table__.columns)
