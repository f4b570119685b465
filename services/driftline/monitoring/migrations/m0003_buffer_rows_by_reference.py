"""Rows of the Kafka prediction log are buffered by reference: their features stay in the log's
Parquet object (``source``) and are read when a window is evaluated, not copied here.

Revision ID: m0003
Revises: m0002
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "m0003"
down_revision = "m0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Features may be absent when the row names the object that holds them."""
    op.alter_column("buffered_predictions", "features", existing_type=JSONB, nullable=True)
    op.add_column("buffered_predictions", sa.Column("source", JSONB, nullable=True))


def downgrade() -> None:
    """Back to m0002 (rows buffered by reference are dropped: their features are not here)."""
    op.execute("DELETE FROM buffered_predictions WHERE features IS NULL")
    op.drop_column("buffered_predictions", "source")
    op.alter_column("buffered_predictions", "features", existing_type=JSONB, nullable=False)
