"""A failed job no longer holds its training key: a re-applied spec may queue a retry.

Revision ID: t0006
Revises: t0005
"""

from alembic import op

revision = "t0006"
down_revision = "t0005"
branch_labels = None
depends_on = None

KEY = ["model", "dataset_sha256", "spec_hash", "labelled_until"]


def upgrade() -> None:
    """The unique training key becomes a unique index over jobs that did not fail."""
    op.drop_constraint("uq_jobs_training_key", "jobs", type_="unique")
    op.create_index(
        "uq_jobs_training_key", "jobs", KEY, unique=True, postgresql_where="status <> 'failed'"
    )


def downgrade() -> None:
    """Back to one job per key (fails if a key was retried)."""
    op.drop_index("uq_jobs_training_key", "jobs")
    op.create_unique_constraint("uq_jobs_training_key", "jobs", KEY)
