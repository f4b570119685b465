"""Registry tables: spec history, model versions, aliases and canary rollbacks.

Revision ID: g0001
Revises:
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "g0001"
down_revision = None
branch_labels = None
depends_on = None


def _created() -> sa.Column:
    return sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now())


def upgrade() -> None:
    """Create specs, model_versions, aliases and rollbacks."""
    op.create_table(
        "specs",
        sa.Column("model", sa.String(128), primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("spec_hash", sa.String(64), nullable=False),
        sa.Column("spec", JSONB, nullable=False),
        sa.Column("applied_by", sa.String(256), nullable=False),
        sa.Column("event_id", sa.String(64), nullable=True, unique=True),
        _created(),
    )
    op.create_table(
        "model_versions",
        sa.Column("model", sa.String(128), primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("run_id", sa.String(128), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("approval", sa.String(16), nullable=False),
        sa.Column("dataset", JSONB, nullable=False),
        sa.Column("artifact", JSONB, nullable=False),
        sa.Column("spec_hash", sa.String(64), nullable=False),
        sa.Column("code_version", sa.String(128), nullable=False),
        sa.Column("seed", sa.BigInteger, nullable=False),
        sa.Column("metrics", JSONB, nullable=False),
        sa.Column("params", JSONB, nullable=False),
        sa.Column("trainer", sa.String(256), nullable=False),
        sa.Column("trained_by", sa.String(256), nullable=False),
        sa.Column("gates", JSONB, nullable=False),
        sa.Column("reasons", JSONB, nullable=False),
        sa.Column("notes", JSONB, nullable=False),
        sa.Column("compared_to", sa.Integer, nullable=True),
        sa.Column("decided_by", sa.String(256), nullable=True),
        sa.Column("comment", sa.Text, nullable=True),
        sa.Column("event_id", sa.String(64), nullable=False),
        _created(),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("model", "run_id", name="uq_model_versions_model_run"),
        sa.CheckConstraint(
            "status IN ('pending', 'approved', 'rejected')", name="ck_model_versions_status"
        ),
    )
    op.create_table(
        "aliases",
        sa.Column("model", sa.String(128), primary_key=True),
        sa.Column("alias", sa.String(32), primary_key=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now()),
    )
    op.create_table(
        "rollbacks",
        sa.Column("model", sa.String(128), primary_key=True),
        sa.Column("canary_id", sa.String(128), primary_key=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("step", sa.Integer, nullable=False),
        sa.Column("traffic_percent", sa.Float, nullable=False),
        sa.Column("verdict", sa.String(16), nullable=False),
        sa.Column("reasons", JSONB, nullable=False),
        _created(),
    )


def downgrade() -> None:
    """Drop the registry tables."""
    for table in ("rollbacks", "aliases", "model_versions", "specs"):
        op.drop_table(table)
