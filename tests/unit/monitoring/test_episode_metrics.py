"""Open drift episodes on ``/metrics`` follow the table (the DriftEpisodeOpenTooLong alert)."""

from __future__ import annotations

from datetime import UTC, datetime

from prometheus_client import CollectorRegistry

from driftline.monitoring.episode_metrics import open_since_gauge, show_open_episodes

NAME = "driftline_drift_episode_open_since_timestamp_seconds"


def test_the_gauge_holds_exactly_the_open_episodes() -> None:
    registry = CollectorRegistry()
    gauge = open_since_gauge(registry)
    monday = datetime(2026, 12, 7, 6, 0, tzinfo=UTC)
    show_open_episodes(gauge, {"churn": monday, "fraud": monday})
    assert registry.get_sample_value(NAME, {"model": "churn"}) == monday.timestamp()
    assert registry.get_sample_value(NAME, {"model": "fraud"}) == monday.timestamp()
    show_open_episodes(gauge, {"fraud": monday})  # churn resolved, maybe on another replica
    assert registry.get_sample_value(NAME, {"model": "churn"}) is None
    assert registry.get_sample_value(NAME, {"model": "fraud"}) == monday.timestamp()
    show_open_episodes(gauge, {})
    assert registry.get_sample_value(NAME, {"model": "fraud"}) is None
