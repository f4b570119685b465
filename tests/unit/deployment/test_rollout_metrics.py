"""Active canary rollouts on ``/metrics`` follow the table (the serving dashboard's canary
panels read them)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry

from driftline.deployment.rollout.metrics import ActiveRollout, rollout_gauges
from driftline_contracts.values import CanaryStep

PLAN = (
    CanaryStep(traffic_percent=5, min_duration_s=0, min_requests=0, shadow=True),
    CanaryStep(traffic_percent=25, min_duration_s=60, min_requests=50),
    CanaryStep(traffic_percent=100, min_duration_s=60, min_requests=50),
)


def value(registry: CollectorRegistry, name: str, model: str, version: str) -> float | None:
    return registry.get_sample_value(name, {"model": model, "version": version})


def test_the_gauges_show_each_active_rollouts_step_and_share() -> None:
    registry = CollectorRegistry()
    gauges = rollout_gauges(registry)
    gauges.show([ActiveRollout("churn", 4, 2, PLAN), ActiveRollout("fraud", 9, 1, PLAN)])
    assert value(registry, "driftline_canary_step", "churn", "4") == 2
    assert value(registry, "driftline_canary_steps", "churn", "4") == 3
    assert value(registry, "driftline_canary_traffic_percent", "churn", "4") == 25
    assert value(registry, "driftline_canary_traffic_percent", "fraud", "9") == 5  # mirrored
    gauges.show([ActiveRollout("fraud", 9, 3, PLAN)])  # churn's rollout ended
    for name in ("driftline_canary_step", "driftline_canary_traffic_percent"):
        assert value(registry, name, "churn", "4") is None
    assert value(registry, "driftline_canary_traffic_percent", "fraud", "9") == 100
    gauges.show([])
    assert value(registry, "driftline_canary_step", "fraud", "9") is None
