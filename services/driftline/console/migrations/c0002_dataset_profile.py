"""The read model keeps each accepted dataset version's profile reference (uri, sha256).

Revision ID: c0002
Revises: c0001
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "c0002"
down_revision = "c0001"
branch_labels = None
depends_on = None

ADDED = {"datasets": ["profile"]}
"""Columns this revision adds (the frozen-DDL test counts them with c0001's)."""


def upgrade() -> None:
    """Add ``datasets.profile`` (null for rows projected before it)."""
    op.add_column("datasets", sa.Column("profile", JSONB, nullable=True))


def downgrade() -> None:
    """Drop ``datasets.profile``."""
    op.drop_column("datasets", "profile")
