"""Effects table of the test probe service (no uniqueness: duplicates would show).

Revision ID: p0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "p0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the effects table."""
    op.create_table(
        "effects",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("event_id", sa.String(64), nullable=False),
        sa.Column("dataset", sa.String(128), nullable=False),
        sa.Column("ce_type", sa.String(200), nullable=False),
        sa.Column("source", sa.String(256), nullable=False),
        sa.Column("actor", sa.String(256), nullable=False),
        sa.Column("correlation_id", sa.String(64), nullable=False),
        sa.Column("subject", sa.String(256), nullable=False),
    )


def downgrade() -> None:
    """Drop it."""
    op.drop_table("effects")
