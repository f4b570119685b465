"""The audit writer role may read and append to the log, never change or remove a row.

When a role named ``driftline_audit`` exists (the local stack creates it; see docs/audit.md for
other deployments), it gets USAGE on this schema, SELECT and INSERT on ``audit_log``, and what
the runtime needs on the inbox and outbox. The schema's owner keeps running migrations.

Revision ID: a0002
Revises: a0001
"""

from alembic import op

revision = "a0002"
down_revision = "a0001"
branch_labels = None
depends_on = None

WRITER = "driftline_audit"


def upgrade() -> None:
    """Grant the writer role its privileges in this schema, when the role exists."""
    op.execute(
        f"""
        DO $$
        BEGIN
            IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{WRITER}') THEN
                EXECUTE format('GRANT USAGE ON SCHEMA %I TO {WRITER}', current_schema());
                GRANT SELECT, INSERT ON audit_log TO {WRITER};
                GRANT SELECT, INSERT, UPDATE, DELETE ON outbox, inbox TO {WRITER};
                EXECUTE format(
                    'GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA %I TO {WRITER}',
                    current_schema()
                );
                EXECUTE format(
                    'GRANT SELECT ON alembic_version, alembic_version_runtime TO {WRITER}'
                );
            END IF;
        END $$;
        """
    )


def downgrade() -> None:
    """Take the writer role's privileges back."""
    op.execute(
        f"""
        DO $$
        BEGIN
            IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{WRITER}') THEN
                REVOKE ALL ON audit_log, outbox, inbox FROM {WRITER};
            END IF;
        END $$;
        """
    )
