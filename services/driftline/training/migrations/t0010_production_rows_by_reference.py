"""Production rows of the Kafka prediction log are kept by reference: request id, time and
the Parquet object holding them (``source``), features NULL; a retrain reads the features of
its labelled rows back from those objects, so training keeps no copy of them.

Revision ID: t0010
Revises: t0009
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "t0010"
down_revision = "t0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add production_predictions.source; features may be NULL (then source is set)."""
    op.add_column("production_predictions", sa.Column("source", JSONB, nullable=True))
    op.alter_column("production_predictions", "features", nullable=True)
    op.create_check_constraint(
        "ck_production_predictions_features_or_source",
        "production_predictions",
        "features IS NOT NULL OR source IS NOT NULL",
    )


def downgrade() -> None:
    """Drop the rows kept by reference, then the column; features NOT NULL again."""
    op.execute("DELETE FROM production_predictions WHERE features IS NULL")
    op.drop_constraint("ck_production_predictions_features_or_source", "production_predictions")
    op.alter_column("production_predictions", "features", nullable=False)
    op.drop_column("production_predictions", "source")
