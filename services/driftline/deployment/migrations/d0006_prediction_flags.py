"""Logged predictions keep their serving flags: the values of a row its version never saw in
training (unseen category, case variant, null, number in a string column), so the batches sent
from PostgreSQL carry them to monitoring like the in-memory and Kafka paths do.

Revision ID: d0006
Revises: d0005
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "d0006"
down_revision = "d0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add predictions.flags (NULL: the row had none)."""
    op.add_column("predictions", sa.Column("flags", JSONB, nullable=True))


def downgrade() -> None:
    """Back to d0005."""
    op.drop_column("predictions", "flags")
