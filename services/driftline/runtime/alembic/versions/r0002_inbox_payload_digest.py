"""Inbox rows keep the sha256 of the payload they handled (conflicting replays are caught).

Revision ID: r0002
Revises: r0001
"""

import sqlalchemy as sa
from alembic import op

revision = "r0002"
down_revision = "r0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add ``inbox.payload_sha256`` (NULL on rows written before it)."""
    op.add_column("inbox", sa.Column("payload_sha256", sa.String(64), nullable=True))


def downgrade() -> None:
    """Drop the column."""
    op.drop_column("inbox", "payload_sha256")
