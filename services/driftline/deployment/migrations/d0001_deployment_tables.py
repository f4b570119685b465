"""Deployment tables: canary policies, model versions, champions, canaries, prediction log.

Revision ID: d0001
Revises:
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "d0001"
down_revision = None
branch_labels = None
depends_on = None

NOW = sa.func.now()


def upgrade() -> None:
    """Create the deployment tables."""
    op.create_table(
        "canary_policies",
        sa.Column("model", sa.String(128), primary_key=True),
        sa.Column("policy", JSONB, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=NOW),
    )
    op.create_table(
        "model_versions",
        sa.Column("model", sa.String(128), primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("artifact", JSONB, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("load_error", sa.Text, nullable=True),
        sa.Column("event_id", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=NOW),
    )
    op.create_table(
        "champions",
        sa.Column("model", sa.String(128), primary_key=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=NOW),
    )
    _canaries()
    _predictions()


def _canaries() -> None:
    op.create_table(
        "canaries",
        sa.Column("canary_id", sa.String(128), primary_key=True),
        sa.Column("model", sa.String(128), nullable=False),
        sa.Column("challenger_version", sa.Integer, nullable=False),
        sa.Column("champion_version", sa.Integer, nullable=False),
        sa.Column("steps", JSONB, nullable=False),
        sa.Column("step", sa.Integer, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("step_started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_report", JSONB, nullable=True),
    )
    op.create_index(
        "uq_canaries_active_model",
        "canaries",
        ["model"],
        unique=True,
        postgresql_where=sa.text("status = 'active'"),
    )


def _predictions() -> None:
    op.create_table(
        "predictions",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("request_id", sa.String(64), nullable=False, unique=True),
        sa.Column("model", sa.String(128), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("variant", sa.String(16), nullable=False),
        sa.Column("canary_id", sa.String(128), nullable=True),
        sa.Column("features", JSONB, nullable=False),
        sa.Column("prediction", JSONB, nullable=True),
        sa.Column("score", sa.Float, nullable=True),
        sa.Column("latency_ms", sa.Float, nullable=False),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("batch_id", sa.String(128), nullable=True),
        sa.Column("label", JSONB, nullable=True),
        sa.Column("labelled_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index(
        "ix_predictions_unsent",
        "predictions",
        ["id"],
        postgresql_where=sa.text("batch_id IS NULL AND error IS NULL"),
    )
    op.create_index("ix_predictions_canary", "predictions", ["canary_id", "created_at"])


def downgrade() -> None:
    """Drop the deployment tables."""
    for table in ("predictions", "canaries", "champions", "model_versions", "canary_policies"):
        op.drop_table(table)
