"""Training's tables in its PostgreSQL schema (created by migrations/t0001…t0008)."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)
from sqlalchemy.dialects.postgresql import JSONB

metadata = MetaData()
specs = Table(
    "specs",
    metadata,
    Column("model", String(128), primary_key=True),
    Column("dataset", String(128)),
    Column("spec_hash", String(64)),
    Column("spec", JSONB),
    Column("updated_at", DateTime(timezone=True)),
)
spec_history = Table(
    "spec_history",
    metadata,
    Column("model", String(128), primary_key=True),
    Column("spec_hash", String(64), primary_key=True),
    Column("spec", JSONB),
    Column("applied_at", DateTime(timezone=True)),
)
dataset_versions = Table(
    "dataset_versions",
    metadata,
    Column("dataset", String(128), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("sha256", String(64)),
    Column("ref", JSONB),
    Column("event_id", String(128)),
    Column("accepted_at", DateTime(timezone=True)),
)
jobs = Table(
    "jobs",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("model", String(128)),
    Column("dataset_sha256", String(64)),
    Column("spec_hash", String(64)),
    Column("run_id", String(128)),
    Column("dataset", JSONB),
    Column("spec", JSONB),
    Column("trigger", String(32)),
    Column("cause", Text),
    Column("status", String(16)),
    Column("attempt", Integer),
    Column("claimed_at", DateTime(timezone=True)),
    Column("claimed_by", String(255)),
    Column("labelled_until", BigInteger),
    Column("created_at", DateTime(timezone=True)),
    Column("finished_at", DateTime(timezone=True)),
)
runs = Table(
    "runs",
    metadata,
    Column("run_id", String(128), primary_key=True),
    Column("model", String(128)),
    Column("job_id", BigInteger),
    Column("status", String(16)),
    Column("trigger", String(32)),
    Column("attempt", Integer),
    Column("dataset", JSONB),
    Column("dataset_version", Integer),
    Column("dataset_sha256", String(64)),
    Column("spec_hash", String(64)),
    Column("seed", BigInteger),
    Column("params", JSONB),
    Column("metrics", JSONB),
    Column("artifacts", JSONB),
    Column("lineage", JSONB),
    Column("train_rows", BigInteger),
    Column("holdout_rows", BigInteger),
    Column("duration_s", Float),
    Column("failure", JSONB),
    Column("created_at", DateTime(timezone=True)),
)
production_predictions = Table(
    "production_predictions",
    metadata,
    Column("model", String(128), primary_key=True),
    Column("request_id", String(128), primary_key=True),
    Column("time", DateTime(timezone=True)),
    Column("features", JSONB),
)
production_labels = Table(
    "production_labels",
    metadata,
    Column("seq", BigInteger),
    Column("model", String(128), primary_key=True),
    Column("request_id", String(128), primary_key=True),
    Column("label", JSONB),
    Column("received_at", DateTime(timezone=True)),
)
