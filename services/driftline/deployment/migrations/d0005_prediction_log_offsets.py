"""The Kafka prediction log's compaction progress: the next offset to compact per partition.

Advanced in the transaction that emits the compacted range's ``PredictionsLogged`` events, and
only from the offset the compactor started at, so a range is announced exactly once however
often a crash or a second replica makes it compacted again.

Revision ID: d0005
Revises: d0004
"""

import sqlalchemy as sa
from alembic import op

revision = "d0005"
down_revision = "d0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add prediction_log_offsets."""
    op.create_table(
        "prediction_log_offsets",
        sa.Column("partition", sa.Integer, primary_key=True),
        sa.Column("next_offset", sa.BigInteger, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    """Back to d0004."""
    op.drop_table("prediction_log_offsets")
