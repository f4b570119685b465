"""Late labels: a window's performance verdict, what opened an episode, labels by request.

Revision ID: m0002
Revises: m0001
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "m0002"
down_revision = "m0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add the performance verdict per window and the episode's cause and opening window."""
    op.add_column("drift_windows", sa.Column("performance", JSONB, nullable=True))
    op.add_column(
        "drift_episodes",
        sa.Column("performance", sa.Boolean, nullable=False, server_default=sa.false()),
    )
    op.add_column("drift_episodes", sa.Column("opened_seq", sa.Integer, nullable=True))
    # late labels find the evaluated windows holding their requests
    op.create_index("ix_buffered_request", "buffered_predictions", ["model", "request_id"])


def downgrade() -> None:
    """Drop the late-label columns."""
    op.drop_index("ix_buffered_request", table_name="buffered_predictions")
    op.drop_column("drift_episodes", "opened_seq")
    op.drop_column("drift_episodes", "performance")
    op.drop_column("drift_windows", "performance")
