"""Validation tables: model specs, accepted versions, rejections, inferred expectations.

Revision ID: v0001
Revises:
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "v0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the four tables."""
    _specs()
    _outcomes()
    op.create_table(
        "inferred_expectations",
        sa.Column("dataset", sa.String(128), primary_key=True),
        sa.Column("expectations", JSONB, nullable=False),
        sa.Column("from_version", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now()),
    )


def _specs() -> None:
    op.create_table(
        "model_specs",
        sa.Column("model", sa.String(128), primary_key=True),
        sa.Column("dataset", sa.String(128), nullable=False, index=True),
        sa.Column("target", sa.String(128), nullable=False),
        sa.Column("task", sa.String(32), nullable=False),
        sa.Column("spec_hash", sa.String(64), nullable=False),
        sa.Column("expectations", JSONB, nullable=True),
        sa.Column("spec_error", sa.Text, nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now()),
    )


def _outcomes() -> None:
    op.create_table(
        "accepted_versions",
        sa.Column("dataset", sa.String(128), primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("uri", sa.String(2048), nullable=False),
        sa.Column("rows", sa.BigInteger, nullable=True),
        sa.Column("profile_uri", sa.String(2048), nullable=False),
        sa.Column("profile_sha256", sa.String(64), nullable=False),
        sa.Column("profile_size", sa.BigInteger, nullable=False),
        sa.Column("report_uri", sa.String(2048), nullable=False),
        sa.Column("event_id", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now()),
        sa.UniqueConstraint("dataset", "sha256", name="uq_accepted_versions_dataset_sha256"),
    )
    op.create_table(
        "rejections",
        sa.Column("dataset", sa.String(128), primary_key=True),
        sa.Column("sha256", sa.String(64), primary_key=True),
        sa.Column("fingerprint", sa.String(64), primary_key=True),
        sa.Column("reasons", JSONB, nullable=False),
        sa.Column("report_uri", sa.String(2048), nullable=False),
        sa.Column("event_id", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now()),
    )


def downgrade() -> None:
    """Drop the validation tables."""
    for table in ("inferred_expectations", "rejections", "accepted_versions", "model_specs"):
        op.drop_table(table)
