"""The requests and feedback tables.

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from router.requestlog.schema import JSONDocument, UTCDateTime

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None


def _request_columns() -> list[sa.Column[object]]:
    return [
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("caller_key_id", sa.String(64), nullable=True),
        sa.Column("endpoint", sa.String(16), nullable=False),
        sa.Column("requested_model", sa.String(256), nullable=True),
        sa.Column("profile", sa.String(64), nullable=True),
        sa.Column("preferences", JSONDocument, nullable=True),
        sa.Column("predictions", JSONDocument, nullable=True),
        sa.Column("scorer", sa.String(128), nullable=True),
        sa.Column("chosen_model", sa.String(256), nullable=True),
        sa.Column("decision_reason", sa.Text(), nullable=True),
        sa.Column("fallback_chain", JSONDocument, nullable=False),
        sa.Column("predicted_cost_usd", sa.Float(), nullable=True),
        sa.Column("prompt_tokens", sa.Integer(), nullable=True),
        sa.Column("completion_tokens", sa.Integer(), nullable=True),
        sa.Column("cost_usd", sa.Float(), nullable=True),
        sa.Column("decision_ms", sa.Float(), nullable=True),
        sa.Column("upstream_ms", sa.Float(), nullable=True),
        sa.Column("total_ms", sa.Float(), nullable=False),
        sa.Column("stream", sa.Boolean(), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=False),
        sa.Column("error_code", sa.String(64), nullable=True),
        sa.Column("prompt_text", sa.Text(), nullable=True),
        sa.Column("completion_text", sa.Text(), nullable=True),
    ]


def upgrade() -> None:
    op.create_table("requests", *_request_columns())
    op.create_index("ix_requests_created_at", "requests", ["created_at"])
    op.create_index("ix_requests_chosen_model", "requests", ["chosen_model"])
    op.create_table(
        "feedback",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "request_id",
            sa.String(64),
            sa.ForeignKey("requests.id", ondelete="CASCADE"),
            nullable=False,
            unique=True,
        ),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("thumbs", sa.String(8), nullable=True),
        sa.Column("label", sa.String(64), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("feedback")
    op.drop_index("ix_requests_chosen_model", "requests")
    op.drop_index("ix_requests_created_at", "requests")
    op.drop_table("requests")
