"""Each audited event records whose signature the sink verified on it (``origin``).

Entries chained before have none; their hashes do not cover it, so they verify as before.

Revision ID: a0004
Revises: a0003
"""

import sqlalchemy as sa
from alembic import op

revision = "a0004"
down_revision = "a0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add the nullable origin column (the writer's table grants cover it)."""
    op.add_column("audit_log", sa.Column("origin", sa.String(64), nullable=True))


def downgrade() -> None:
    """Drop the origin column."""
    op.drop_column("audit_log", "origin")
