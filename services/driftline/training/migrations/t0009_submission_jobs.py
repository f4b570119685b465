"""Jobs of a second kind: scoring a model trained elsewhere (a submission).

A submission job has no causing event (``cause`` may be null), keeps the submitted file's
reference and submitter (``submission``), and its bytes' sha256 joins the unique job key, so
the same file sent twice for the same data and spec is one job, and different files are two.

Revision ID: t0009
Revises: t0008
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "t0009"
down_revision = "t0008"
branch_labels = None
depends_on = None

OLD_KEY = ["model", "dataset_sha256", "spec_hash", "labelled_until"]
LIVE = "status <> 'failed'"


def upgrade() -> None:
    """Add kind, submission and submission_sha256; widen the unique key; cause nullable."""
    op.add_column("jobs", sa.Column("kind", sa.String(16), nullable=False, server_default="train"))
    op.add_column("jobs", sa.Column("submission", JSONB, nullable=True))
    op.add_column(
        "jobs", sa.Column("submission_sha256", sa.String(64), nullable=False, server_default="")
    )
    op.alter_column("jobs", "cause", nullable=True)
    op.drop_index("uq_jobs_training_key", "jobs")
    op.create_index("uq_jobs_training_key", "jobs", [*OLD_KEY, "submission_sha256"],
                    unique=True, postgresql_where=LIVE)  # fmt: skip


def downgrade() -> None:
    """Drop submission jobs and the columns (train jobs keep their key)."""
    op.execute("DELETE FROM jobs WHERE kind = 'submission'")
    op.drop_index("uq_jobs_training_key", "jobs")
    op.create_index("uq_jobs_training_key", "jobs", OLD_KEY, unique=True, postgresql_where=LIVE)
    op.alter_column("jobs", "cause", nullable=False)
    for column in ("submission_sha256", "submission", "kind"):
        op.drop_column("jobs", column)
