"""Drift episodes that could not be answered yet: retrained once labels or data arrive.

Revision ID: t0004
Revises: t0003
"""

import sqlalchemy as sa
from alembic import op

revision = "t0004"
down_revision = "t0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """One pending DriftDetected per model (the newest), kept as its envelope."""
    op.create_table(
        "pending_drifts",
        sa.Column("model", sa.String(128), primary_key=True),
        sa.Column("cause", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now()),
    )


def downgrade() -> None:
    """Drop the table."""
    op.drop_table("pending_drifts")
