"""The read model's tables (created by ``migrations/c0001_read_model.py``, then c0002)."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
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
)
from sqlalchemy.dialects.postgresql import JSONB

metadata = MetaData()
Json = JSONB(none_as_null=True)


def _time(name: str) -> Column[object]:
    return Column(name, DateTime(timezone=True))


events = Table(
    "events",
    metadata,
    Column("position", BigInteger, Identity(), unique=True),
    Column("event_id", String(128), primary_key=True),
    Column("type", String(256), nullable=False),
    Column("subject", String(128), nullable=False),
    Column("actor", String(256), nullable=False),
    _time("time"),
    Column("data", Json),
    Index("ix_console_events_subject", "subject", "position"),
)
models = Table(
    "models",
    metadata,
    Column("name", String(128), primary_key=True),
    Column("champion", Integer),
    _time("champion_since"),
    Column("canary", Json),
    Column("drift", Json),
    Column("training", Json),
)
versions = Table(
    "versions",
    metadata,
    Column("model", String(128), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("status", String(32)),
    Column("run_id", String(128)),
    Column("dataset", Json),
    Column("metrics", Json),
    Column("gates", Json),
    Column("reasons", Json),
    Column("approval", String(16)),
    Column("trainer", String(256)),
    Column("decided_by", String(256)),
    Column("comment", Text),
    Column("promoted_by", String(256)),
    _time("registered_at"),
    _time("decided_at"),
    _time("promoted_at"),
    _time("rolled_back_at"),
    Index("ix_console_versions_model", "model", "version"),
)
rollout_steps = Table(
    "rollout_steps",
    metadata,
    Column("event_id", String(128), primary_key=True),
    Column("canary_id", String(128)),
    Column("model", String(128)),
    Column("version", Integer),
    Column("kind", String(16)),
    Column("step", Integer),
    Column("traffic_percent", Float),
    Column("verdict", String(16)),
    Column("results", Json),
    Column("reasons", Json),
    _time("time"),
    Index("ix_console_rollout_steps_model", "model", "time"),
)
drift_windows = Table(
    "drift_windows",
    metadata,
    Column("event_id", String(128), primary_key=True),
    Column("feature", String(256), primary_key=True),
    Column("model", String(128)),
    Column("version", Integer),
    Column("drift_id", String(128)),
    Column("test", String(32)),
    Column("statistic", Float),
    Column("p_value", Float),
    Column("threshold", Float),
    Column("drifted", Boolean),
    _time("window_end"),
    Index("ix_console_drift_windows_model", "model", "feature", "window_end"),
)
drift_episodes = Table(
    "drift_episodes",
    metadata,
    Column("drift_id", String(128), primary_key=True),
    Column("model", String(128)),
    Column("version", Integer),
    Column("severity", String(16)),
    Column("resolution", String(32)),
    Column("features", Json),
    _time("detected_at"),
    _time("resolved_at"),
)
datasets = Table(
    "datasets",
    metadata,
    Column("event_id", String(128), primary_key=True),
    Column("name", String(128)),
    Column("version", Integer),
    Column("verdict", String(16)),
    Column("sha256", String(64)),
    Column("rows", BigInteger),
    Column("warnings", Json),
    Column("reasons", Json),
    Column("profile", Json),
    _time("time"),
    Index("ix_console_datasets_name", "name", "time"),
)
runs = Table(
    "runs",
    metadata,
    Column("run_id", String(128), primary_key=True),
    Column("model", String(128)),
    Column("version", Integer),
    Column("status", String(16)),
    Column("trigger", String(32)),
    Column("dataset", Json),
    Column("params", Json),
    Column("metrics", Json),
    Column("duration_s", Float),
    Column("reason", Json),
    _time("started_at"),
    _time("finished_at"),
    Index("ix_console_runs_model", "model", "started_at"),
)
TABLES = {t.name: t for t in metadata.sorted_tables}
