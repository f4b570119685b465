"""Prediction rows are logged under the batch that will send them.

The writer gives each served row the id of its model version's open batch when it inserts
it, and registers the batch in ``open_prediction_batches``; sending the batch deletes that
row in the transaction that emits the event. So a row is written once (no second write to
mark it sent), and a batch whose process died is found, and sent, by its registration.
The canary index keeps canary rows only: the judge always asks for one rollout's rows, and
every row outside a rollout paid for an index entry it never used.

Revision ID: d0004
Revises: d0003
"""

import sqlalchemy as sa
from alembic import op

revision = "d0004"
down_revision = "d0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add open_prediction_batches and an index on predictions.batch_id; canary rows only in
    the canary index."""
    op.create_table(
        "open_prediction_batches",
        sa.Column("batch_id", sa.String(128), primary_key=True),
        sa.Column("model", sa.String(128), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_predictions_batch", "predictions", ["batch_id"])
    op.drop_index("ix_predictions_canary", "predictions")
    op.create_index(
        "ix_predictions_canary",
        "predictions",
        ["canary_id", "created_at"],
        postgresql_where=sa.text("canary_id IS NOT NULL"),
    )


def downgrade() -> None:
    """Back to d0003."""
    op.drop_index("ix_predictions_canary", "predictions")
    op.create_index("ix_predictions_canary", "predictions", ["canary_id", "created_at"])
    op.drop_index("ix_predictions_batch", "predictions")
    op.drop_table("open_prediction_batches")
