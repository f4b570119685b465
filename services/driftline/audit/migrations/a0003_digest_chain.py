"""Signed digests are kept in PostgreSQL too, append-only like the log they sign.

Digests before this revision (``audit/digests/<seq>.json`` and ``latest.json`` in S3) named no
previous digest and are left as they are; the new chain (``audit/digest-chain/`` in S3)
starts at digest 1 and covers the log from seq 1.

Revision ID: a0003
Revises: a0002
"""

import sqlalchemy as sa
from alembic import op

revision = "a0003"
down_revision = "a0002"
branch_labels = None
depends_on = None

WRITER = "driftline_audit"


def upgrade() -> None:
    """Create the digest table, refuse changes to it, let the writer read and append."""
    op.create_table(
        "audit_digest",
        sa.Column("number", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("first_seq", sa.BigInteger, nullable=False),
        sa.Column("last_seq", sa.BigInteger, nullable=False, unique=True),
        sa.Column("head_hash", sa.String(64), nullable=False),
        sa.Column("previous_signature", sa.String(64), nullable=False),
        sa.Column("signed_at", sa.String(64), nullable=False),
        sa.Column("signature", sa.String(64), nullable=False),
    )
    op.execute(
        "CREATE TRIGGER audit_digest_no_update_delete BEFORE UPDATE OR DELETE ON audit_digest "
        "FOR EACH ROW EXECUTE FUNCTION audit_log_is_append_only()"
    )
    op.execute(
        "CREATE TRIGGER audit_digest_no_truncate BEFORE TRUNCATE ON audit_digest "
        "FOR EACH STATEMENT EXECUTE FUNCTION audit_log_is_append_only()"
    )
    op.execute(
        f"""
        DO $$
        BEGIN
            IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{WRITER}') THEN
                GRANT SELECT, INSERT ON audit_digest TO {WRITER};
            END IF;
        END $$;
        """
    )


def downgrade() -> None:
    """Drop the digest table."""
    op.drop_table("audit_digest")
