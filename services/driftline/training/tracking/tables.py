"""Tracking's tables in training's schema, declared once (migration t0007 creates them).

t0007 builds the tables from these declarations, so a later change here needs its own
migration *and* t0007 must keep creating the old shape (copy the old columns into it then).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    MetaData,
    String,
    Table,
    Text,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB

metadata = MetaData()
NOW = func.now()

experiments = Table(
    "tracking_experiments",
    metadata,
    Column("experiment_id", BigInteger, primary_key=True, autoincrement=True),
    Column("name", String(256), nullable=False, unique=True),
    Column("artifact_location", Text, nullable=False, server_default=""),
    Column("tags", JSONB, nullable=False, server_default="{}"),
    Column("created_by", String(255), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=NOW),
)
tracked_runs = Table(
    "tracking_runs",
    metadata,
    Column("run_id", String(64), primary_key=True),
    Column(
        "experiment_id",
        BigInteger,
        ForeignKey("tracking_experiments.experiment_id"),
        nullable=False,
        index=True,
    ),
    Column("name", String(256), nullable=False),
    Column("status", String(16), nullable=False),
    Column("actor", String(255), nullable=False),
    Column("parent_run_id", String(64), nullable=True, index=True),
    Column("dataset", JSONB, nullable=True),
    Column("start_time", BigInteger, nullable=False),
    Column("end_time", BigInteger, nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=NOW),
)
params = Table(
    "tracking_params",
    metadata,
    Column("run_id", String(64), ForeignKey("tracking_runs.run_id"), primary_key=True),
    Column("key", String(250), primary_key=True),
    Column("value", Text, nullable=False),
)
tags = Table(
    "tracking_tags",
    metadata,
    Column("run_id", String(64), ForeignKey("tracking_runs.run_id"), primary_key=True),
    Column("key", String(250), primary_key=True),
    Column("value", Text, nullable=False),
)
metrics = Table(
    "tracking_metrics",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("run_id", String(64), ForeignKey("tracking_runs.run_id"), nullable=False),
    Column("key", String(250), nullable=False),
    Column("value", Float(precision=53), nullable=False),
    Column("step", BigInteger, nullable=False),
    Column("timestamp", BigInteger, nullable=False),
    Index("ix_tracking_metrics_run_key", "run_id", "key", "step"),
)
artifacts = Table(
    "tracking_artifacts",
    metadata,
    Column("run_id", String(64), ForeignKey("tracking_runs.run_id"), primary_key=True),
    Column("path", String(1024), primary_key=True),
    Column("uri", Text, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("size_bytes", BigInteger, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=NOW),
)

TABLES = [experiments, tracked_runs, params, tags, metrics, artifacts]
"""In creation order (children after the tables they point at)."""
