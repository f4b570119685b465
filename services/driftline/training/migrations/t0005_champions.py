"""The champion of each model, as deployment's ModelPromoted announced it.

Revision ID: t0005
Revises: t0004
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "t0005"
down_revision = "t0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """One row per model: the promoted version and its artifact reference."""
    op.create_table(
        "champions",
        sa.Column("model", sa.String(128), primary_key=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("artifact", JSONB, nullable=False),
        sa.Column("promoted_at", sa.DateTime(timezone=True), server_default=sa.func.now()),
    )


def downgrade() -> None:
    """Drop the table."""
    op.drop_table("champions")
