"""What a micro-batcher reports once per predict call, and its Prometheus adapter:
``driftline_deployment_micro_batch_*`` on deployment's ``/metrics``, by model and version."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from prometheus_client import CollectorRegistry, Counter, Histogram

FlushReason = Literal["idle", "batch_ended", "max_rows", "max_wait", "retried_alone"]
"""Why a predict call ran: the queue's first loop turn with nothing predicting (``idle``),
the loop turn after the version's predicting batch ended (``batch_ended``), the queue reached
``max_batch_rows`` (``max_rows``), its oldest request waited ``max_wait_ms`` beside a batch
still predicting (``max_wait``), or one request of a failed batch predicted alone
(``retried_alone``)."""
FLUSH_REASONS: tuple[FlushReason, ...] = (
    "idle", "batch_ended", "max_rows", "max_wait", "retried_alone",
)  # fmt: skip
ROW_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096, 10_000)
REQUEST_BUCKETS = (1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 64, 128)
WAIT_BUCKETS = (0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25)


class BatchObserver(Protocol):
    """Told once per predict call what it holds."""

    def batch_started(
        self, reason: FlushReason, rows: int, requests: int, waits_s: Sequence[float]
    ) -> None:
        """A call of ``rows`` rows from ``requests`` requests, which waited ``waits_s``."""


class Unobserved:
    """Reports nowhere (a batcher built without metrics)."""

    def batch_started(
        self, reason: FlushReason, rows: int, requests: int, waits_s: Sequence[float]
    ) -> None:
        """Nothing."""


@dataclass(frozen=True)
class VersionBatchMetrics:
    """One version's series, labelled once when its batcher is made (not per call)."""

    rows: Histogram
    requests: Histogram
    wait: Histogram
    flushes: dict[FlushReason, Counter]

    def batch_started(
        self, reason: FlushReason, rows: int, requests: int, waits_s: Sequence[float]
    ) -> None:
        """Observe the call's rows and requests, each request's wait, and count its reason."""
        self.rows.observe(rows)
        self.requests.observe(requests)
        for wait in waits_s:
            self.wait.observe(wait)
        self.flushes[reason].inc()


@dataclass(frozen=True)
class BatchMetrics:
    """The micro-batching metrics of one registry."""

    rows: Histogram
    requests: Histogram
    wait: Histogram
    flushes: Counter

    def for_version(self, model: str, version: int) -> VersionBatchMetrics:
        """The series of ``model`` version ``version``, every flush reason shown from 0."""
        labels = (model, str(version))
        return VersionBatchMetrics(
            self.rows.labels(*labels),
            self.requests.labels(*labels),
            self.wait.labels(*labels),
            {reason: self.flushes.labels(*labels, reason) for reason in FLUSH_REASONS},
        )


def batch_metrics(registry: CollectorRegistry) -> BatchMetrics:
    """The metrics, registered in ``registry`` (literal names: the dashboards' test reads them)."""
    return BatchMetrics(
        rows=Histogram(
            "driftline_deployment_micro_batch_rows",
            "Rows per predict call of a micro-batched version (its requests' rows together).",
            ["model", "version"],
            buckets=ROW_BUCKETS,
            registry=registry,
        ),
        requests=Histogram(
            "driftline_deployment_micro_batch_requests",
            "Requests per predict call of a micro-batched version.",
            ["model", "version"],
            buckets=REQUEST_BUCKETS,
            registry=registry,
        ),
        wait=Histogram(
            "driftline_deployment_micro_batch_wait_seconds",
            "How long each request waited in its version's batcher before its batch started.",
            ["model", "version"],
            buckets=WAIT_BUCKETS,
            registry=registry,
        ),
        flushes=Counter(
            "driftline_deployment_micro_batch_flushes",
            "Predict calls of micro-batched versions, by why they ran (idle, batch_ended, "
            "max_rows, max_wait, retried_alone).",
            ["model", "version", "reason"],
            registry=registry,
        ),
    )
