"""What each group-commit write of the prediction log took, and its Prometheus adapter:
``driftline_deployment_prediction_log_write_*`` on deployment's ``/metrics`` (per process).

A request answers only once its rows are committed, so a write's duration is what the log
adds to a request's latency: the rest of the write in progress when it arrived, then its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from prometheus_client import CollectorRegistry, Histogram

SECONDS_BUCKETS = (0.00025, 0.0005, 0.001, 0.002, 0.004, 0.008, 0.016, 0.032, 0.064, 0.128, 0.5)
REQUEST_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256)


class WriteObserver(Protocol):
    """Told once per committed write."""

    def written(self, seconds: float, requests: int) -> None:
        """A write of ``requests`` requests' rows committed ``seconds`` after it started."""


class Unobserved:
    """Reports nowhere (a writer built without metrics)."""

    def written(self, seconds: float, requests: int) -> None:
        """Nothing."""


@dataclass(frozen=True)
class WriteMetrics:
    """The two histograms of one registry."""

    seconds: Histogram
    requests: Histogram

    def written(self, seconds: float, requests: int) -> None:
        """Observe the write's duration and how many requests it carried."""
        self.seconds.observe(seconds)
        self.requests.observe(requests)


def write_metrics(registry: CollectorRegistry) -> WriteMetrics:
    """The metrics, registered in ``registry``."""
    return WriteMetrics(
        seconds=Histogram(
            "driftline_deployment_prediction_log_write_seconds",
            "Time one group-commit write of the prediction log took, from building its "
            "statement to its commit (PostgreSQL sink): what a request waits for after its "
            "predict, at most twice over.",
            buckets=SECONDS_BUCKETS,
            registry=registry,
        ),
        requests=Histogram(
            "driftline_deployment_prediction_log_write_requests",
            "Requests whose rows one write of the prediction log carried.",
            buckets=REQUEST_BUCKETS,
            registry=registry,
        ),
    )
