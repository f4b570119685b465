"""Monitoring's tables in its PostgreSQL schema (created by the m0001 migration)."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    Integer,
    MetaData,
    String,
    Table,
)
from sqlalchemy.dialects.postgresql import JSONB

metadata = MetaData()
monitored_models = Table(
    "monitored_models", metadata,
    Column("model", String(128), primary_key=True),
    Column("dataset", String(128)),
    Column("task", String(32)),
    Column("target", String(128)),
    Column("policy", JSONB),
    Column("champion", Integer),
    Column("updated_at", DateTime(timezone=True)),
)  # fmt: skip
model_versions = Table(
    "model_versions", metadata,
    Column("model", String(128), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("dataset", JSONB),
    Column("metrics", JSONB),
)  # fmt: skip
dataset_profiles = Table(
    "dataset_profiles", metadata,
    Column("dataset", String(128), primary_key=True),
    Column("sha256", String(64), primary_key=True),
    Column("version", Integer),
    Column("ref", JSONB),
    Column("profile", JSONB),
    Column("created_at", DateTime(timezone=True)),
)  # fmt: skip
buffered_predictions = Table(
    "buffered_predictions", metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("model", String(128)),
    Column("version", Integer),
    Column("request_id", String(128)),
    Column("served_at", DateTime(timezone=True)),
    Column("features", JSONB(none_as_null=True)),
    Column("prediction", JSONB(none_as_null=True)),
    Column("window_seq", Integer),
    Column("source", JSONB(none_as_null=True)),
)  # fmt: skip
ground_truth = Table(
    "ground_truth", metadata,
    Column("model", String(128), primary_key=True),
    Column("request_id", String(128), primary_key=True),
    Column("label", JSONB(none_as_null=True)),
    Column("received_at", DateTime(timezone=True)),
)  # fmt: skip
drift_windows = Table(
    "drift_windows", metadata,
    Column("model", String(128), primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("window_id", String(32)),
    Column("version", Integer),
    Column("start_at", DateTime(timezone=True)),
    Column("end_at", DateTime(timezone=True)),
    Column("rows", Integer),
    Column("drifted", Boolean),
    Column("drift_share", Float),
    Column("severity", String(16)),
    Column("transition", String(16)),
    Column("drift_id", String(128)),
    Column("report", JSONB),
    Column("report_html", JSONB),
    Column("performance", JSONB(none_as_null=True)),
)  # fmt: skip
drift_episodes = Table(
    "drift_episodes", metadata,
    Column("drift_id", String(128), primary_key=True),
    Column("model", String(128)),
    Column("version", Integer),
    Column("detected_at", DateTime(timezone=True)),
    Column("clean_streak", Integer),
    Column("resolved_at", DateTime(timezone=True)),
    Column("resolution", String(32)),
    Column("performance", Boolean),
    Column("opened_seq", Integer),
)  # fmt: skip
