"""Validation outcomes keep the report link too.

Revision ID: i0004
Revises: i0003
"""

import sqlalchemy as sa
from alembic import op

revision = "i0004"
down_revision = "i0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add validation_outcomes.report_uri."""
    op.add_column("validation_outcomes", sa.Column("report_uri", sa.String(2048), nullable=True))


def downgrade() -> None:
    """Drop it."""
    op.drop_column("validation_outcomes", "report_uri")
