"""Deployment's tables in its PostgreSQL schema (migrations d0001-d0005)."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, DateTime, Float, Integer, MetaData, String, Table, Text
from sqlalchemy.dialects.postgresql import JSONB

metadata = MetaData()
canary_policies = Table(
    "canary_policies",
    metadata,
    Column("model", String(128), primary_key=True),
    Column("policy", JSONB),
    Column("updated_at", DateTime(timezone=True)),
)
model_versions = Table(
    "model_versions",
    metadata,
    Column("model", String(128), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("artifact", JSONB),
    Column("status", String(16)),
    Column("load_error", Text),
    Column("event_id", String(64)),
)
champions = Table(
    "champions",
    metadata,
    Column("model", String(128), primary_key=True),
    Column("version", Integer),
    Column("updated_at", DateTime(timezone=True)),
)
canaries = Table(
    "canaries",
    metadata,
    Column("canary_id", String(128), primary_key=True),
    Column("model", String(128)),
    Column("challenger_version", Integer),
    Column("champion_version", Integer),
    Column("steps", JSONB),
    Column("step", Integer),
    Column("status", String(16)),
    Column("started_at", DateTime(timezone=True)),
    Column("step_started_at", DateTime(timezone=True)),
    Column("ended_at", DateTime(timezone=True)),
    Column("last_report", JSONB),
    Column("cause", Text),
    Column("shadow_report", JSONB),
)
predictions = Table(
    "predictions",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("request_id", String(64)),
    Column("model", String(128)),
    Column("version", Integer),
    Column("variant", String(16)),
    Column("canary_id", String(128)),
    Column("features", JSONB),
    Column("prediction", JSONB),
    Column("score", Float),
    Column("latency_ms", Float),
    Column("error", Text),
    Column("created_at", DateTime(timezone=True)),
    Column("batch_id", String(128)),
    Column("label", JSONB),
    Column("labelled_at", DateTime(timezone=True)),
)
shadow_predictions = Table(
    "shadow_predictions",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("request_id", String(64)),
    Column("canary_id", String(128)),
    Column("model", String(128)),
    Column("version", Integer),
    Column("prediction", JSONB),
    Column("score", Float),
    Column("latency_ms", Float),
    Column("error", Text),
    Column("created_at", DateTime(timezone=True)),
    Column("batch_id", String(128)),
)
open_prediction_batches = Table(
    "open_prediction_batches",
    metadata,
    Column("batch_id", String(128), primary_key=True),
    Column("model", String(128)),
    Column("version", Integer),
    Column("opened_at", DateTime(timezone=True)),
)
prediction_log_offsets = Table(
    "prediction_log_offsets",
    metadata,
    Column("partition", Integer, primary_key=True),
    Column("next_offset", BigInteger),
    Column("updated_at", DateTime(timezone=True)),
)
