"""Experiment tracking: experiments, runs logged from outside, params, tags, metric points
and artifacts (tables declared once, in ``driftline.training.tracking.tables``).

Revision ID: t0007
Revises: t0006
"""

from alembic import op

from driftline.training.tracking.tables import TABLES, metadata

revision = "t0007"
down_revision = "t0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the six tracking tables in the service's schema (the search path)."""
    metadata.create_all(op.get_bind(), tables=TABLES, checkfirst=False)


def downgrade() -> None:
    """Drop them, children first."""
    metadata.drop_all(op.get_bind(), tables=TABLES, checkfirst=False)
