"""Training's tables in its PostgreSQL schema (created by migrations/t0001…t0009)."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    DateTime,
    Float,
    Identity,
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

JOB_KEY = ("model", "dataset_sha256", "spec_hash", "labelled_until", "submission_sha256")
metadata = MetaData()
specs = Table(
    "specs",
    metadata,
    Column("model", String(128), primary_key=True),
    Column("dataset", String(128), nullable=False, index=True),
    Column("spec_hash", String(64), nullable=False),
    Column("spec", JSONB, nullable=False),
    Column("updated_at", DateTime(timezone=True), server_default=func.now()),
)
spec_history = Table(
    "spec_history",
    metadata,
    Column("model", String(128), primary_key=True),
    Column("spec_hash", String(64), primary_key=True),
    Column("spec", JSONB, nullable=False),
    Column("applied_at", DateTime(timezone=True), server_default=func.now()),
)
dataset_versions = Table(
    "dataset_versions",
    metadata,
    Column("dataset", String(128), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("sha256", String(64), nullable=False),
    Column("ref", JSONB, nullable=False),
    Column("event_id", String(128), nullable=False),
    Column("accepted_at", DateTime(timezone=True)),
    Column("created_at", DateTime(timezone=True), server_default=func.now()),
)
jobs = Table(
    "jobs",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("model", String(128), nullable=False),
    Column("dataset_sha256", String(64), nullable=False),
    Column("spec_hash", String(64), nullable=False),
    Column("run_id", String(128), nullable=False, unique=True),
    Column("dataset", JSONB, nullable=False),
    Column("spec", JSONB, nullable=False),
    Column("trigger", String(32), nullable=False),
    Column("cause", Text),
    Column("status", String(16), nullable=False, server_default="queued"),
    Column("attempt", Integer, nullable=False, server_default="0"),
    Column("claimed_at", DateTime(timezone=True)),
    Column("claimed_by", String(255)),
    Column("labelled_until", BigInteger, nullable=False, server_default="0"),
    Column("created_at", DateTime(timezone=True), server_default=func.now()),
    Column("finished_at", DateTime(timezone=True)),
    Column("kind", String(16), nullable=False, server_default="train"),
    Column("submission", JSONB),
    Column("submission_sha256", String(64), nullable=False, server_default=""),
    Index("ix_jobs_status", "status", "id"),
    # One live job per training key (a submission's key adds its bytes' sha256); a failed job
    # does not block its retry.
    Index(
        "uq_jobs_training_key",
        *JOB_KEY,
        unique=True,
        postgresql_where=text("status <> 'failed'"),
    ),
)
runs = Table(
    "runs",
    metadata,
    Column("run_id", String(128), primary_key=True),
    Column("model", String(128), nullable=False, index=True),
    Column("job_id", BigInteger, nullable=False, unique=True),
    Column("status", String(16), nullable=False),
    Column("trigger", String(32), nullable=False),
    Column("attempt", Integer, nullable=False),
    Column("dataset", JSONB, nullable=False),
    Column("dataset_version", Integer),
    Column("dataset_sha256", String(64), nullable=False),
    Column("spec_hash", String(64), nullable=False),
    Column("seed", BigInteger, nullable=False),
    Column("params", JSONB, nullable=False),
    Column("metrics", JSONB, nullable=False),
    Column("artifacts", JSONB, nullable=False),
    Column("lineage", JSONB, nullable=False),
    Column("train_rows", BigInteger),
    Column("holdout_rows", BigInteger),
    Column("duration_s", Float),
    Column("failure", JSONB),
    Column("created_at", DateTime(timezone=True), server_default=func.now()),
)
production_predictions = Table(
    "production_predictions",
    metadata,
    Column("model", String(128), primary_key=True),
    Column("request_id", String(128), primary_key=True),
    Column("time", DateTime(timezone=True), nullable=False),
    Column("features", JSONB(none_as_null=True)),
    Column("source", JSONB(none_as_null=True)),
    CheckConstraint(
        "features IS NOT NULL OR source IS NOT NULL",
        name="ck_production_predictions_features_or_source",
    ),
    Index("ix_production_predictions_time", "time"),
)
production_labels = Table(
    "production_labels",
    metadata,
    Column("seq", BigInteger, Identity(), nullable=False, unique=True),
    Column("model", String(128), primary_key=True),
    Column("request_id", String(128), primary_key=True),
    Column("label", JSONB, nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Index("ix_production_labels_received_at", "received_at"),
)
