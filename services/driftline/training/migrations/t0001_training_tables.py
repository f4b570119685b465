"""Training tables: specs and their history, accepted dataset versions, jobs, runs.

Revision ID: t0001
Revises:
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "t0001"
down_revision = None
branch_labels = None
depends_on = None

NOW = sa.func.now()


def upgrade() -> None:
    """Create the five tables."""
    _specs()
    _jobs()
    _runs()


def _specs() -> None:
    op.create_table(
        "specs",
        sa.Column("model", sa.String(128), primary_key=True),
        sa.Column("dataset", sa.String(128), nullable=False, index=True),
        sa.Column("spec_hash", sa.String(64), nullable=False),
        sa.Column("spec", JSONB, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=NOW),
    )
    op.create_table(
        "spec_history",
        sa.Column("model", sa.String(128), primary_key=True),
        sa.Column("spec_hash", sa.String(64), primary_key=True),
        sa.Column("spec", JSONB, nullable=False),
        sa.Column("applied_at", sa.DateTime(timezone=True), server_default=NOW),
    )
    op.create_table(
        "dataset_versions",
        sa.Column("dataset", sa.String(128), primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("ref", JSONB, nullable=False),
        sa.Column("event_id", sa.String(128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=NOW),
    )


def _jobs() -> None:
    op.create_table(
        "jobs",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("model", sa.String(128), nullable=False),
        sa.Column("dataset_sha256", sa.String(64), nullable=False),
        sa.Column("spec_hash", sa.String(64), nullable=False),
        sa.Column("run_id", sa.String(128), nullable=False, unique=True),
        sa.Column("dataset", JSONB, nullable=False),
        sa.Column("spec", JSONB, nullable=False),
        sa.Column("trigger", sa.String(32), nullable=False),
        sa.Column("cause", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False, server_default="queued"),
        sa.Column("attempt", sa.Integer, nullable=False, server_default="0"),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=NOW),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("model", "dataset_sha256", "spec_hash", name="uq_jobs_training_key"),
        sa.CheckConstraint(
            "status IN ('queued', 'running', 'succeeded', 'failed')", name="ck_jobs_status"
        ),
    )
    op.create_index("ix_jobs_status", "jobs", ["status", "id"])


def _runs() -> None:
    op.create_table(
        "runs",
        sa.Column("run_id", sa.String(128), primary_key=True),
        sa.Column("model", sa.String(128), nullable=False, index=True),
        sa.Column("job_id", sa.BigInteger, nullable=False, unique=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("trigger", sa.String(32), nullable=False),
        sa.Column("attempt", sa.Integer, nullable=False),
        sa.Column("dataset", JSONB, nullable=False),
        sa.Column("dataset_version", sa.Integer, nullable=True),
        sa.Column("dataset_sha256", sa.String(64), nullable=False),
        sa.Column("spec_hash", sa.String(64), nullable=False),
        sa.Column("seed", sa.BigInteger, nullable=False),
        sa.Column("params", JSONB, nullable=False),
        sa.Column("metrics", JSONB, nullable=False),
        sa.Column("artifacts", JSONB, nullable=False),
        sa.Column("lineage", JSONB, nullable=False),
        sa.Column("train_rows", sa.BigInteger, nullable=True),
        sa.Column("holdout_rows", sa.BigInteger, nullable=True),
        sa.Column("duration_s", sa.Float, nullable=True),
        sa.Column("failure", JSONB, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=NOW),
    )


def downgrade() -> None:
    """Drop the training tables."""
    for table in ("runs", "jobs", "dataset_versions", "spec_history", "specs"):
        op.drop_table(table)
