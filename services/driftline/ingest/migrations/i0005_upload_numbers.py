"""One word per number: ingest's arrival counter is the upload number; version is validation's.

``dataset_versions.version`` used to number every distinct upload, rejected ones too, while
validation, training and the registry number accepted versions only; after one rejection the
two disagreed. The counter becomes ``upload``; ``version`` now holds the accepted version
``DataValidated`` carried (validation outcomes keep it too, for verdicts that beat the row).
Existing accepted rows are numbered in upload order, which is the order validation accepted them.

Revision ID: i0005
Revises: i0004
"""

import sqlalchemy as sa
from alembic import op

revision = "i0005"
down_revision = "i0004"
branch_labels = None
depends_on = None

_BACKFILL = """
UPDATE dataset_versions AS d SET version = n.accepted
FROM (
    SELECT name, upload, row_number() OVER (PARTITION BY name ORDER BY upload) AS accepted
    FROM dataset_versions WHERE validation_status = 'validated'
) AS n
WHERE d.name = n.name AND d.upload = n.upload
"""
_OUTCOMES = """
UPDATE validation_outcomes AS o SET version = d.version
FROM dataset_versions AS d
WHERE o.name = d.name AND o.sha256 = d.sha256 AND d.version IS NOT NULL
"""


def upgrade() -> None:
    """Rename the counter to upload, add the accepted version and fill it in."""
    op.alter_column("dataset_versions", "version", new_column_name="upload")
    op.add_column("dataset_versions", sa.Column("version", sa.Integer, nullable=True))
    op.add_column("validation_outcomes", sa.Column("version", sa.Integer, nullable=True))
    op.execute(_BACKFILL)
    op.execute(_OUTCOMES)


def downgrade() -> None:
    """Back to one counter named version."""
    op.drop_column("validation_outcomes", "version")
    op.drop_column("dataset_versions", "version")
    op.alter_column("dataset_versions", "upload", new_column_name="version")
