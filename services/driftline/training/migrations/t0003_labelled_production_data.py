"""Labelled production data: served predictions and their late labels, and the label cut-off
a job trains with (part of the job's key, so new labels allow a retrain on the same data).

Revision ID: t0003
Revises: t0002
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "t0003"
down_revision = "t0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Two tables for production rows; jobs.labelled_until joins the unique job key."""
    op.create_table(
        "production_predictions",
        sa.Column("model", sa.String(128), primary_key=True),
        sa.Column("request_id", sa.String(128), primary_key=True),
        sa.Column("time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("features", JSONB, nullable=False),
    )
    op.create_index("ix_production_predictions_time", "production_predictions", ["time"])
    op.create_table(
        "production_labels",
        sa.Column("seq", sa.BigInteger, sa.Identity(), unique=True, nullable=False),
        sa.Column("model", sa.String(128), primary_key=True),
        sa.Column("request_id", sa.String(128), primary_key=True),
        sa.Column("label", JSONB, nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_production_labels_received_at", "production_labels", ["received_at"])
    op.add_column(
        "jobs", sa.Column("labelled_until", sa.BigInteger, nullable=False, server_default="0")
    )
    op.drop_constraint("uq_jobs_training_key", "jobs", type_="unique")
    op.create_unique_constraint(
        "uq_jobs_training_key", "jobs", ["model", "dataset_sha256", "spec_hash", "labelled_until"]
    )


def downgrade() -> None:
    """Back to the (model, dataset sha256, spec hash) key; production rows dropped."""
    op.drop_constraint("uq_jobs_training_key", "jobs", type_="unique")
    op.create_unique_constraint(
        "uq_jobs_training_key", "jobs", ["model", "dataset_sha256", "spec_hash"]
    )
    op.drop_column("jobs", "labelled_until")
    op.drop_table("production_labels")
    op.drop_table("production_predictions")
