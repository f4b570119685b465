"""The Kafka prediction log's range being compacted: its last offset, recorded before its
objects are written, so a compactor resuming after a crash compacts exactly that range again
(the same object keys, overwritten) instead of a longer one beside orphaned objects.

Revision ID: d0008
Revises: d0007
"""

import sqlalchemy as sa
from alembic import op

revision = "d0008"
down_revision = "d0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add prediction_log_offsets.pending_last (NULL: no range begun)."""
    op.add_column("prediction_log_offsets", sa.Column("pending_last", sa.BigInteger))


def downgrade() -> None:
    """Back to d0007."""
    op.drop_column("prediction_log_offsets", "pending_last")
