"""Shadow mode: the challenger's answers to mirrored requests, and each rollout's shadow report.

Revision ID: d0003
Revises: d0002
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "d0003"
down_revision = "d0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add shadow_predictions and canaries.shadow_report."""
    op.add_column("canaries", sa.Column("shadow_report", JSONB, nullable=True))
    op.create_table(
        "shadow_predictions",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        # the champion's request: one shadow answer per mirrored request
        sa.Column("request_id", sa.String(64), nullable=False, unique=True),
        sa.Column("canary_id", sa.String(128), nullable=False),
        sa.Column("model", sa.String(128), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("prediction", JSONB, nullable=True),
        sa.Column("score", sa.Float, nullable=True),
        sa.Column("latency_ms", sa.Float, nullable=False),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("batch_id", sa.String(128), nullable=True),
    )
    op.create_index("ix_shadow_canary", "shadow_predictions", ["canary_id", "created_at"])
    op.create_index(
        "ix_shadow_unsent",
        "shadow_predictions",
        ["id"],
        postgresql_where=sa.text("batch_id IS NULL AND error IS NULL"),
    )


def downgrade() -> None:
    """Drop them."""
    op.drop_table("shadow_predictions")
    op.drop_column("canaries", "shadow_report")
