"""The console's read model: the tables it projects the audit stream into.

Revision ID: c0001
Revises:
"""

from alembic import op

from driftline.console.adapters.tables import metadata

revision = "c0001"
down_revision = None
branch_labels = None
depends_on = None

_INDEXES = {
    "events": ["subject", "position"],
    "versions": ["model", "version"],
    "rollout_steps": ["model", "time"],
    "drift_windows": ["model", "feature", "window_end"],
    "datasets": ["name", "time"],
    "runs": ["model", "started_at"],
}


def upgrade() -> None:
    """Create every read-model table and the indexes the pages read by."""
    bind = op.get_bind()
    metadata.create_all(bind)
    for table, columns in _INDEXES.items():
        op.create_index(f"ix_console_{table}_{columns[0]}", table, columns)


def downgrade() -> None:
    """Drop the read model (it can be rebuilt from the audit stream)."""
    metadata.drop_all(op.get_bind())
