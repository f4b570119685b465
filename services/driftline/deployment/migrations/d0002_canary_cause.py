"""Rollouts remember the approval that started them, so their events keep its causation.

Revision ID: d0002
Revises: d0001
"""

import sqlalchemy as sa
from alembic import op

revision = "d0002"
down_revision = "d0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add canaries.cause (the ModelApproved envelope as JSON)."""
    op.add_column("canaries", sa.Column("cause", sa.Text, nullable=True))


def downgrade() -> None:
    """Drop it."""
    op.drop_column("canaries", "cause")
