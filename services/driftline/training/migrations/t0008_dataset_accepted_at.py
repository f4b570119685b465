"""Accepted dataset versions remember when they were accepted (training windows by days).

Revision ID: t0008
Revises: t0007
"""

import sqlalchemy as sa
from alembic import op

revision = "t0008"
down_revision = "t0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add dataset_versions.accepted_at (null for versions recorded before)."""
    op.add_column(
        "dataset_versions", sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=True)
    )


def downgrade() -> None:
    """Drop it."""
    op.drop_column("dataset_versions", "accepted_at")
