"""Prometheus metrics of one service process (own registry, built in the factory)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest


class Metrics:
    """The counters, gauges and histograms every service exposes on ``/metrics``."""

    def __init__(self, service: str) -> None:
        self.registry = CollectorRegistry()
        labels = {"service": service}
        self.consumed = Counter(
            "driftline_events_consumed_total",
            "Events handled successfully.",
            ["service", "type"],
            registry=self.registry,
        )
        self.duplicates = Counter(
            "driftline_events_duplicate_total",
            "Redelivered events skipped by the inbox.",
            ["service", "type"],
            registry=self.registry,
        )
        self.produced = Counter(
            "driftline_events_produced_total",
            "Events published by the outbox relay.",
            ["service", "type"],
            registry=self.registry,
        )
        self.failed = Counter(
            "driftline_events_failed_total",
            "Handler attempts that raised.",
            ["service", "type", "kind"],
            registry=self.registry,
        )
        self.retries = Counter(
            "driftline_retries_total",
            "Retries of a consumed event, by kind (transient|error).",
            ["service", "type", "kind"],
            registry=self.registry,
        )
        self.dead_letters = Counter(
            "driftline_dead_letters_total",
            "Events dead-lettered, by original topic and reason "
            "(undecodable|handler_failed|conflicting_replay|unverified_origin).",
            ["service", "topic", "reason"],
            registry=self.registry,
        )
        self.dead_letters_by_reference = Counter(
            "driftline_dead_letters_by_reference_total",
            "Dead letters too large for the broker: payload stored in the object store, the "
            "dead letter carries its uri and sha256.",
            ["service", "topic"],
            registry=self.registry,
        )
        self.dead_letter_failures = Counter(
            "driftline_dead_letter_send_failures_total",
            "Failed sends of a dead letter (retried; the record's offset is not committed).",
            ["service", "topic"],
            registry=self.registry,
        )
        self.background_errors = Counter(
            "driftline_background_errors_total",
            "Failed steps of a background job, by kind: outage (a dependency is unavailable) "
            "or bug (any other exception; logged with its traceback).",
            ["service", "job", "kind"],
            registry=self.registry,
        )
        self.handler_seconds = Histogram(
            "driftline_handler_seconds",
            "Handler latency, by event type.",
            ["service", "type"],
            registry=self.registry,
        )
        self.batch_records = Histogram(
            "driftline_event_batch_records",
            "Records handled together in one transaction (batching subscriptions), by event type.",
            ["service", "type"],
            buckets=(2, 5, 10, 20, 50, 100, 200, 500),
            registry=self.registry,
        )
        self.outbox_backlog = Gauge(
            "driftline_outbox_backlog",
            "Outbox rows not yet published.",
            ["service"],
            registry=self.registry,
        ).labels(**labels)
        self.http_requests = Counter(
            "driftline_http_requests",
            "HTTP requests answered, by route template, method and status code.",
            ["service", "route", "method", "status"],
            registry=self.registry,
        )
        self.http_seconds = Histogram(
            "driftline_http_request_seconds",
            "Time to the response's first byte, by route template and method.",
            ["service", "route", "method"],
            registry=self.registry,
        )
        self.ready = Gauge(
            "driftline_ready",
            "1 when the last /readyz answered ready, 0 when it answered 503.",
            ["service"],
            registry=self.registry,
        ).labels(**labels)
        self.consumer_lag = Gauge(
            "driftline_consumer_lag",
            "Records behind the partition's end after the last record handled, by topic.",
            ["service", "topic", "partition"],
            registry=self.registry,
        )
        self.in_flight = Gauge(
            "driftline_events_in_flight",
            "Events delivered whose outcome is not yet durable (being handled or retried).",
            ["service"],
            registry=self.registry,
        ).labels(**labels)
        self.service = service

    def events_in_flight(self) -> int:
        """How many consumed events are being handled right now."""
        return int(
            self.registry.get_sample_value("driftline_events_in_flight", {"service": self.service})
            or 0
        )

    def render(self) -> bytes:
        """Prometheus text exposition of every metric."""
        return generate_latest(self.registry)
