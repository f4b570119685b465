"""The request rate deployment's HorizontalPodAutoscaler scales on, as /metrics shows it."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, generate_latest

from driftline.deployment.serving.served_counter import ServedCounter


def test_answered_requests_and_rows_are_counted_per_model() -> None:
    registry, counter = CollectorRegistry(), ServedCounter()
    counter.count(registry, "churn", 100)
    counter.count(registry, "churn", 1)
    counter.count(registry, "fraud", 3)
    text = generate_latest(registry).decode()
    assert 'driftline_served_requests_total{model="churn"} 2.0' in text
    assert 'driftline_served_rows_total{model="churn"} 101.0' in text
    assert 'driftline_served_rows_total{model="fraud"} 3.0' in text
