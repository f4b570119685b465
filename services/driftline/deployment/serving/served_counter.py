"""``driftline_served_requests_total`` and ``driftline_served_rows_total`` by model: the request
rate a HorizontalPodAutoscaler scales deployment on (through a Prometheus metrics adapter)."""

from __future__ import annotations

from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter


@dataclass
class ServedCounter:
    """Counts answered predict requests and their rows on the service's ``/metrics``."""

    _requests: Counter | None = field(default=None, init=False)
    _rows: Counter | None = field(default=None, init=False)

    def count(self, registry: CollectorRegistry, model: str, rows: int) -> None:
        """One answered request of ``rows`` rows (registers the counters on first use)."""
        if self._requests is None or self._rows is None:
            self._requests = Counter(
                "driftline_served_requests", "Answered predict requests, by model.", ["model"],
                registry=registry,
            )  # fmt: skip
            self._rows = Counter(
                "driftline_served_rows", "Rows of answered predict requests, by model.",
                ["model"], registry=registry,
            )  # fmt: skip
        self._requests.labels(model=model).inc()
        self._rows.labels(model=model).inc(rows)
