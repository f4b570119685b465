"""Versions keep their ModelTrained event's correlation id, so a person's decision continues it.

Revision ID: g0002
Revises: g0001
"""

import sqlalchemy as sa
from alembic import op

revision = "g0002"
down_revision = "g0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add model_versions.correlation_id (NULL for versions registered before)."""
    op.add_column("model_versions", sa.Column("correlation_id", sa.String(128), nullable=True))


def downgrade() -> None:
    """Drop it."""
    op.drop_column("model_versions", "correlation_id")
