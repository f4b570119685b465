"""Dataset catalog: one row per distinct (dataset, sha256).

Revision ID: i0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "i0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the dataset_versions table."""
    op.create_table(
        "dataset_versions",
        sa.Column("name", sa.String(128), primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("uri", sa.String(2048), nullable=False),
        sa.Column("format", sa.String(16), nullable=False),
        sa.Column("size_bytes", sa.BigInteger, nullable=True),
        sa.Column("rows", sa.BigInteger, nullable=True),
        sa.Column("source", sa.String(256), nullable=False),
        sa.Column("actor", sa.String(256), nullable=False),
        sa.Column("event_id", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now()),
        sa.UniqueConstraint("name", "sha256", name="uq_dataset_versions_name_sha256"),
    )


def downgrade() -> None:
    """Drop the catalog."""
    op.drop_table("dataset_versions")
