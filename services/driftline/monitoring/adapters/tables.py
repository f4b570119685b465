"""Monitoring's tables in its PostgreSQL schema (created by migrations m0001…m0003)."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    false,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB

metadata = MetaData()
monitored_models = Table(
    "monitored_models", metadata,
    Column("model", String(128), primary_key=True),
    Column("dataset", String(128), nullable=False),
    Column("task", String(32), nullable=False),
    Column("target", String(128), nullable=False),
    Column("policy", JSONB, nullable=False),
    Column("champion", Integer),
    Column("updated_at", DateTime(timezone=True), server_default=func.now()),
)  # fmt: skip
model_versions = Table(
    "model_versions", metadata,
    Column("model", String(128), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("dataset", JSONB, nullable=False),
    Column("metrics", JSONB, nullable=False),
)  # fmt: skip
dataset_profiles = Table(
    "dataset_profiles", metadata,
    Column("dataset", String(128), primary_key=True),
    Column("sha256", String(64), primary_key=True),
    Column("version", Integer),
    Column("ref", JSONB, nullable=False),
    Column("profile", JSONB, nullable=False),
    Column("created_at", DateTime(timezone=True), server_default=func.now()),
)  # fmt: skip
buffered_predictions = Table(
    "buffered_predictions", metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("model", String(128), nullable=False),
    Column("version", Integer, nullable=False),
    Column("request_id", String(128), nullable=False),
    Column("served_at", DateTime(timezone=True), nullable=False),
    Column("features", JSONB(none_as_null=True)),  # null: read from ``source`` (m0003)
    Column("prediction", JSONB(none_as_null=True)),
    Column("window_seq", Integer),
    Column("source", JSONB(none_as_null=True)),
    Column("flags", JSONB(none_as_null=True)),  # serving flags of the row; null: none (m0004)
    Index("ix_buffered_pending", "model", "window_seq", "id"),
    Index("ix_buffered_request", "model", "request_id"),  # late labels find their windows
)  # fmt: skip
ground_truth = Table(
    "ground_truth", metadata,
    Column("model", String(128), primary_key=True),
    Column("request_id", String(128), primary_key=True),
    Column("label", JSONB(none_as_null=True)),
    Column("received_at", DateTime(timezone=True), nullable=False),
)  # fmt: skip
drift_windows = Table(
    "drift_windows", metadata,
    Column("model", String(128), primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("window_id", String(32), nullable=False),
    Column("version", Integer, nullable=False),
    Column("start_at", DateTime(timezone=True), nullable=False),
    Column("end_at", DateTime(timezone=True), nullable=False),
    Column("rows", Integer, nullable=False),
    Column("drifted", Boolean, nullable=False),
    Column("drift_share", Float, nullable=False),
    Column("severity", String(16), nullable=False),
    Column("transition", String(16), nullable=False),
    Column("drift_id", String(128)),
    Column("report", JSONB, nullable=False),
    Column("report_html", JSONB, nullable=False),
    Column("performance", JSONB(none_as_null=True)),
    Column("created_at", DateTime(timezone=True), server_default=func.now()),
)  # fmt: skip
drift_episodes = Table(
    "drift_episodes", metadata,
    Column("drift_id", String(128), primary_key=True),
    Column("model", String(128), nullable=False),
    Column("version", Integer, nullable=False),
    Column("detected_at", DateTime(timezone=True), nullable=False),
    Column("clean_streak", Integer, nullable=False, server_default="0"),
    Column("resolved_at", DateTime(timezone=True)),
    Column("resolution", String(32)),
    Column("performance", Boolean, nullable=False, server_default=false()),
    Column("opened_seq", Integer),
    # at most one open episode per model: the hysteresis invariant, enforced by the database
    Index("uq_drift_episodes_open", "model", unique=True,
          postgresql_where=text("resolved_at IS NULL")),
)  # fmt: skip
