"""Monitoring tables: models, versions, profiles, prediction buffer, labels, windows, episodes.

Revision ID: m0001
Revises:
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "m0001"
down_revision = None
branch_labels = None
depends_on = None
NOW = sa.func.now()


def upgrade() -> None:
    """Create the monitoring tables."""
    _references()
    _traffic()
    _outcomes()


def _references() -> None:
    op.create_table(
        "monitored_models",
        sa.Column("model", sa.String(128), primary_key=True),
        sa.Column("dataset", sa.String(128), nullable=False),
        sa.Column("task", sa.String(32), nullable=False),
        sa.Column("target", sa.String(128), nullable=False),
        sa.Column("policy", JSONB, nullable=False),
        sa.Column("champion", sa.Integer, nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=NOW),
    )
    op.create_table(
        "model_versions",
        sa.Column("model", sa.String(128), primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("dataset", JSONB, nullable=False),
        sa.Column("metrics", JSONB, nullable=False),
    )
    op.create_table(
        "dataset_profiles",
        sa.Column("dataset", sa.String(128), primary_key=True),
        sa.Column("sha256", sa.String(64), primary_key=True),
        sa.Column("version", sa.Integer, nullable=True),
        sa.Column("ref", JSONB, nullable=False),
        sa.Column("profile", JSONB, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=NOW),
    )


def _traffic() -> None:
    op.create_table(
        "buffered_predictions",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("model", sa.String(128), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("request_id", sa.String(128), nullable=False),
        sa.Column("served_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("features", JSONB, nullable=False),
        sa.Column("prediction", JSONB, nullable=True),
        sa.Column("window_seq", sa.Integer, nullable=True),
    )
    op.create_index("ix_buffered_pending", "buffered_predictions", ["model", "window_seq", "id"])
    op.create_table(
        "ground_truth",
        sa.Column("model", sa.String(128), primary_key=True),
        sa.Column("request_id", sa.String(128), primary_key=True),
        sa.Column("label", JSONB, nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
    )


def _outcomes() -> None:
    op.create_table(
        "drift_windows",
        sa.Column("model", sa.String(128), primary_key=True),
        sa.Column("seq", sa.Integer, primary_key=True),
        sa.Column("window_id", sa.String(32), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("start_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("end_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("rows", sa.Integer, nullable=False),
        sa.Column("drifted", sa.Boolean, nullable=False),
        sa.Column("drift_share", sa.Float, nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("transition", sa.String(16), nullable=False),
        sa.Column("drift_id", sa.String(128), nullable=True),
        sa.Column("report", JSONB, nullable=False),
        sa.Column("report_html", JSONB, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=NOW),
    )
    op.create_table(
        "drift_episodes",
        sa.Column("drift_id", sa.String(128), primary_key=True),
        sa.Column("model", sa.String(128), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("detected_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("clean_streak", sa.Integer, nullable=False, server_default="0"),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolution", sa.String(32), nullable=True),
    )
    # at most one open episode per model: the hysteresis invariant, enforced by the database
    op.create_index(
        "uq_drift_episodes_open", "drift_episodes", ["model"], unique=True,
        postgresql_where=sa.text("resolved_at IS NULL"),
    )  # fmt: skip


def downgrade() -> None:
    """Drop the monitoring tables."""
    for table in ("drift_episodes", "drift_windows", "ground_truth", "buffered_predictions",
                  "dataset_profiles", "model_versions", "monitored_models"):  # fmt: skip
        op.drop_table(table)
