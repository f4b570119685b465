"""Buffered predictions keep their serving flags (values their version never saw in training),
so each evaluated window counts them in its report and in ``/metrics``.

Revision ID: m0004
Revises: m0003
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "m0004"
down_revision = "m0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add buffered_predictions.flags (NULL: the row had none)."""
    op.add_column("buffered_predictions", sa.Column("flags", JSONB, nullable=True))


def downgrade() -> None:
    """Back to m0003."""
    op.drop_column("buffered_predictions", "flags")
