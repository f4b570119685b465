"""Uploads and rejections: who uploaded, validation outcome columns, refused arrivals.

Revision ID: i0002
Revises: i0001
"""

import sqlalchemy as sa
from alembic import op

revision = "i0002"
down_revision = "i0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add upload and validation columns; create rejected_arrivals."""
    op.add_column("dataset_versions", sa.Column("uploaded_by", sa.String(256), nullable=True))
    op.add_column("dataset_versions", sa.Column("validation_status", sa.String(16), nullable=True))
    op.add_column("dataset_versions", sa.Column("profile_uri", sa.String(2048), nullable=True))
    op.add_column("dataset_versions", sa.Column("report_uri", sa.String(2048), nullable=True))
    op.create_check_constraint(
        "ck_dataset_versions_validation_status",
        "dataset_versions",
        "validation_status IN ('validated', 'rejected')",
    )
    op.create_table(
        "rejected_arrivals",
        sa.Column("event_id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(128), nullable=False, index=True),
        sa.Column("uri", sa.String(2048), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("format", sa.String(16), nullable=False),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("source", sa.String(256), nullable=False),
        sa.Column("actor", sa.String(256), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now()),
    )


def downgrade() -> None:
    """Drop rejected_arrivals and the added columns."""
    op.drop_table("rejected_arrivals")
    op.drop_constraint("ck_dataset_versions_validation_status", "dataset_versions", type_="check")
    for column in ("report_uri", "profile_uri", "validation_status", "uploaded_by"):
        op.drop_column("dataset_versions", column)
