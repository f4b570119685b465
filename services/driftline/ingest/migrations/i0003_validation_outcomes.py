"""Validation outcomes by (dataset, sha256), kept even when they arrive before the catalog row.

Revision ID: i0003
Revises: i0002
"""

import sqlalchemy as sa
from alembic import op

revision = "i0003"
down_revision = "i0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create validation_outcomes."""
    op.create_table(
        "validation_outcomes",
        sa.Column("name", sa.String(128), primary_key=True),
        sa.Column("sha256", sa.String(64), primary_key=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("profile_uri", sa.String(2048), nullable=True),
    )


def downgrade() -> None:
    """Drop it."""
    op.drop_table("validation_outcomes")
