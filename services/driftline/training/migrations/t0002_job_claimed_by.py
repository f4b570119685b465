"""Jobs remember which worker claimed them, so a restarted worker requeues its own at once.

Revision ID: t0002
Revises: t0001
"""

import sqlalchemy as sa
from alembic import op

revision = "t0002"
down_revision = "t0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add jobs.claimed_by (the worker identity of the current claim)."""
    op.add_column("jobs", sa.Column("claimed_by", sa.String(255), nullable=True))


def downgrade() -> None:
    """Drop it."""
    op.drop_column("jobs", "claimed_by")
