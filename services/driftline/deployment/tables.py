"""Deployment's tables in its PostgreSQL schema (migrations d0001-d0008)."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB

metadata = MetaData()
canary_policies = Table(
    "canary_policies",
    metadata,
    Column("model", String(128), primary_key=True),
    Column("policy", JSONB, nullable=False),
    Column("micro_batching", JSONB),  # the spec's serving.micro_batching; NULL: off (d0007)
    Column("updated_at", DateTime(timezone=True)),
)
model_versions = Table(
    "model_versions",
    metadata,
    Column("model", String(128), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("artifact", JSONB, nullable=False),
    Column("status", String(16), nullable=False),
    Column("load_error", Text),
    Column("event_id", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), server_default=func.now()),
)
champions = Table(
    "champions",
    metadata,
    Column("model", String(128), primary_key=True),
    Column("version", Integer, nullable=False),
    Column("updated_at", DateTime(timezone=True)),
)
canaries = Table(
    "canaries",
    metadata,
    Column("canary_id", String(128), primary_key=True),
    Column("model", String(128), nullable=False),
    Column("challenger_version", Integer, nullable=False),
    Column("champion_version", Integer, nullable=False),
    Column("steps", JSONB, nullable=False),
    Column("step", Integer, nullable=False),
    Column("status", String(16), nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("step_started_at", DateTime(timezone=True), nullable=False),
    Column("ended_at", DateTime(timezone=True)),
    Column("last_report", JSONB),
    Column("cause", Text),
    Column("shadow_report", JSONB),
    # one active rollout per model, enforced by the database
    Index(
        "uq_canaries_active_model", "model", unique=True, postgresql_where=text("status = 'active'")
    ),
)
predictions = Table(
    "predictions",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("request_id", String(64), nullable=False, unique=True),
    Column("model", String(128), nullable=False),
    Column("version", Integer, nullable=False),
    Column("variant", String(16), nullable=False),
    Column("canary_id", String(128)),
    Column("features", JSONB, nullable=False),
    Column("prediction", JSONB),
    Column("score", Float),
    Column("latency_ms", Float, nullable=False),
    Column("error", Text),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("batch_id", String(128)),
    Column("label", JSONB),
    Column("labelled_at", DateTime(timezone=True)),
    Column("flags", JSONB),  # RowFlag per value training never saw; NULL: none (d0006)
    Index(
        "ix_predictions_unsent", "id", postgresql_where=text("batch_id IS NULL AND error IS NULL")
    ),
    Index(
        "ix_predictions_canary",
        "canary_id",
        "created_at",
        postgresql_where=text("canary_id IS NOT NULL"),
    ),
    Index("ix_predictions_batch", "batch_id"),
)
shadow_predictions = Table(
    "shadow_predictions",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("request_id", String(64), nullable=False, unique=True),
    Column("canary_id", String(128), nullable=False),
    Column("model", String(128), nullable=False),
    Column("version", Integer, nullable=False),
    Column("prediction", JSONB),
    Column("score", Float),
    Column("latency_ms", Float, nullable=False),
    Column("error", Text),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("batch_id", String(128)),
    Index("ix_shadow_canary", "canary_id", "created_at"),
    Index("ix_shadow_unsent", "id", postgresql_where=text("batch_id IS NULL AND error IS NULL")),
)
open_prediction_batches = Table(
    "open_prediction_batches",
    metadata,
    Column("batch_id", String(128), primary_key=True),
    Column("model", String(128), nullable=False),
    Column("version", Integer, nullable=False),
    Column("opened_at", DateTime(timezone=True), nullable=False),
)
prediction_log_offsets = Table(
    "prediction_log_offsets",
    metadata,
    Column("partition", Integer, primary_key=True),
    Column("next_offset", BigInteger, nullable=False),
    Column("pending_last", BigInteger),  # the range begun from next_offset; NULL: none (d0008)
    Column("updated_at", DateTime(timezone=True), nullable=False),
)
