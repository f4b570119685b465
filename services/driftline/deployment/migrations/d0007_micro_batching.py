"""A model's micro-batching option (the spec's ``serving.micro_batching``) kept beside its
canary policy, so every replica reads it with the routing state.

Revision ID: d0007
Revises: d0006
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "d0007"
down_revision = "d0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add canary_policies.micro_batching (NULL: off)."""
    op.add_column("canary_policies", sa.Column("micro_batching", JSONB, nullable=True))


def downgrade() -> None:
    """Back to d0006."""
    op.drop_column("canary_policies", "micro_batching")
