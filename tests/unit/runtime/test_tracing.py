"""Traces across the bus, with the real consumer and unit of work on in-memory fakes: a span
per handled record, a child of the trace its event carries, and events emitted while handling
carry that span on (``ce_traceparent``)."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest
from opentelemetry.trace import SpanKind, StatusCode

from driftline.runtime.consumer import EventProcessor, Outcome, Subscription
from driftline.runtime.deadletter import DeadLetterPublisher, RawRecord
from driftline.runtime.metrics import Metrics
from driftline.runtime.settings import RetrySettings
from driftline.runtime.tracing import ServiceTracer, otlp_provider, shutdown
from driftline_contracts.codec import encode
from driftline_contracts.envelope import from_headers, new_envelope
from driftline_contracts.events.data import DataArrived, DataValidated
from driftline_contracts.examples import example
from tests.unit.runtime.tracing_fakes import MemoryUnits, by_name, memory_provider

PARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
TRACE_ID = int(PARENT.split("-")[1], 16)


class Sender:
    """Collects dead letters."""

    def __init__(self) -> None:
        self.sent: list[str] = []

    async def send(self, topic: str, value: bytes, *, key: bytes | None, headers: Any) -> None:
        self.sent.append(topic)


def arrival_record(traceparent: str | None = PARENT, **headers: bytes) -> RawRecord:
    event = example(DataArrived)
    envelope = new_envelope(
        event, source="pipeline/etl", actor="pipeline:etl", traceparent=traceparent
    )
    kafka = encode(event, envelope)
    found = dict(kafka.headers)
    found.update(headers)
    return RawRecord(kafka.topic, 0, 7, kafka.key, kafka.value, tuple(found.items()))


def processor(
    event_type: type, handler: Any, units: MemoryUnits, tracer: ServiceTracer
) -> EventProcessor:
    async def no_sleep(_: float) -> None:
        return None

    return EventProcessor(
        Subscription(event_type, handler),
        service=units.service,
        units=units,  # type: ignore[arg-type]  # the in-memory factory
        dead_letters=DeadLetterPublisher(Sender()),
        retry=RetrySettings(max_attempts=2, initial_backoff_s=0.01, jitter=0),
        metrics=Metrics(units.service),
        sleep=no_sleep,
        tracer=tracer,
    )


async def validate(event: DataArrived, uow: Any) -> DataValidated:
    return example(DataValidated)  # type: ignore[return-value]


async def train(event: DataValidated, uow: Any) -> None:
    return None


async def test_a_chain_of_two_services_is_one_trace_with_a_span_per_hop() -> None:
    provider, exporter = memory_provider()
    validation = MemoryUnits("validation", ServiceTracer("validation", provider))
    training = MemoryUnits("training", ServiceTracer("training", provider))
    first = processor(DataArrived, validate, validation, validation.tracer)
    second = processor(DataValidated, train, training, training.tracer)

    assert await first.process(arrival_record()) is Outcome.HANDLED
    (validated,) = validation.records()
    assert await second.process(validated) is Outcome.HANDLED

    spans = by_name(exporter.get_finished_spans())
    hop1 = spans[f"process {DataArrived.ce_type}"]
    hop2 = spans[f"process {DataValidated.ce_type}"]
    assert hop1.context.trace_id == hop2.context.trace_id == TRACE_ID
    assert hop1.parent.span_id == int(PARENT.split("-")[2], 16)
    assert hop2.parent.span_id == hop1.context.span_id
    assert hop1.kind is SpanKind.CONSUMER
    assert hop1.attributes["driftline.service"] == "validation"
    assert hop2.attributes["driftline.service"] == "training"
    assert hop1.attributes["messaging.destination.name"] == DataArrived.topic
    assert hop1.attributes["driftline.outcome"] == "handled"
    # The header the next service reads names hop 1's span.
    carried = from_headers(validated.headers).traceparent
    assert carried == f"00-{TRACE_ID:032x}-{hop1.context.span_id:016x}-01"


async def test_an_event_without_trace_context_starts_a_trace_that_its_effects_continue() -> None:
    provider, exporter = memory_provider()
    units = MemoryUnits("validation", ServiceTracer("validation", provider))
    await processor(DataArrived, validate, units, units.tracer).process(arrival_record(None))
    (span,) = exporter.get_finished_spans()
    assert span.parent is None
    (validated,) = units.records()
    assert from_headers(validated.headers).traceparent.split("-")[1] == (
        f"{span.context.trace_id:032x}"
    )


@pytest.mark.parametrize(
    "bad",
    [
        b"garbage",
        b"00-0AF7651916CD43DD8448EB211C80319C-B7AD6B7169203331-01",  # upper case
        b"00-00000000000000000000000000000000-b7ad6b7169203331-01",  # all-zero trace id
        b"\xff\xfe",  # not even text
        PARENT.encode() + b"-extra",
    ],
)
async def test_a_malformed_traceparent_is_ignored_never_dead_lettered(bad: bytes) -> None:
    provider, exporter = memory_provider()
    units = MemoryUnits("validation", ServiceTracer("validation", provider))
    record = arrival_record(None, ce_traceparent=bad, ce_tracestate=b"k=v")
    outcome = await processor(DataArrived, validate, units, units.tracer).process(record)
    assert outcome is Outcome.HANDLED
    (span,) = exporter.get_finished_spans()
    assert span.context.trace_id != TRACE_ID
    assert span.parent is None or not span.parent.is_valid


async def test_tracing_off_passes_the_incoming_trace_context_through() -> None:
    units = MemoryUnits("validation")  # no provider: tracing off
    record = arrival_record(None, ce_traceparent=PARENT.encode(), ce_tracestate=b"acme=7")
    await processor(DataArrived, validate, units, units.tracer).process(record)
    (validated,) = units.records()
    envelope = from_headers(validated.headers)
    assert (envelope.traceparent, envelope.tracestate) == (PARENT, "acme=7")


async def test_tracing_off_and_no_context_emits_events_without_trace_headers() -> None:
    units = MemoryUnits("validation")
    await processor(DataArrived, validate, units, units.tracer).process(arrival_record(None))
    (validated,) = units.records()
    names = {name for name, _ in validated.headers}
    assert "ce_traceparent" not in names
    assert "ce_tracestate" not in names


async def test_tracestate_travels_with_the_trace() -> None:
    provider, _ = memory_provider()
    units = MemoryUnits("validation", ServiceTracer("validation", provider))
    record = arrival_record(None, ce_traceparent=PARENT.encode(), ce_tracestate=b"acme=7")
    await processor(DataArrived, validate, units, units.tracer).process(record)
    (validated,) = units.records()
    assert from_headers(validated.headers).tracestate == "acme=7"


async def test_a_dead_lettered_record_leaves_an_error_span_with_its_failures() -> None:
    provider, exporter = memory_provider()
    units = MemoryUnits("validation", ServiceTracer("validation", provider))

    async def broken(event: DataArrived, uow: Any) -> None:
        raise ValueError("bad column")

    outcome = await processor(DataArrived, broken, units, units.tracer).process(arrival_record())
    assert outcome is Outcome.DEAD_LETTERED
    (span,) = exporter.get_finished_spans()
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes["driftline.outcome"] == "dead_lettered"
    assert [e.name for e in span.events] == ["exception"]  # the first try; the second gives up
    assert span.context.trace_id == TRACE_ID


async def test_each_record_of_a_batch_gets_its_own_span_in_its_own_trace() -> None:
    provider, exporter = memory_provider()
    units = MemoryUnits("validation", ServiceTracer("validation", provider))
    other = "00-1111111111111111111111111111111a-2222222222222222-01"
    batch = processor(DataArrived, validate, units, units.tracer)
    batch.subscription = Subscription(DataArrived, validate, batch_size=2)
    second = arrival_record(None, ce_traceparent=other.encode())
    second = RawRecord(second.topic, 0, 8, second.key, second.value, second.headers)
    outcomes = await batch.process_batch([arrival_record(), second])
    assert outcomes == [Outcome.HANDLED, Outcome.HANDLED]
    traces = sorted(s.context.trace_id for s in exporter.get_finished_spans())
    assert traces == sorted([TRACE_ID, int(other.split("-")[1], 16)])
    carried = sorted(from_headers(r.headers).traceparent.split("-")[1] for r in units.records())
    assert carried == sorted(f"{t:032x}" for t in traces)


async def test_background_work_on_a_stored_cause_continues_its_trace() -> None:
    provider, exporter = memory_provider()
    units = MemoryUnits("training", ServiceTracer("training", provider))
    cause = from_headers(arrival_record().headers)
    async with units(cause=cause) as uow:  # what a worker does with a job's stored cause
        await uow.emit(example(DataValidated))
    (span,) = exporter.get_finished_spans()
    assert span.name == f"work on {DataArrived.ce_type}"
    assert span.context.trace_id == TRACE_ID
    (emitted,) = units.records()
    assert from_headers(emitted.headers).traceparent.split("-")[2] == f"{span.context.span_id:016x}"


def test_otlp_export_is_on_only_when_an_endpoint_is_configured() -> None:
    assert otlp_provider("ingest", {}) is None
    assert otlp_provider("ingest", {"OTEL_EXPORTER_OTLP_ENDPOINT": " "}) is None
    on = {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}
    assert otlp_provider("ingest", {**on, "OTEL_SDK_DISABLED": "true"}) is None
    provider = otlp_provider("ingest", on)
    assert provider is not None
    try:
        assert provider.resource.attributes["service.name"] == "driftline-ingest"
    finally:
        provider.shutdown()


def test_spans_are_exported_over_otlp_http_to_the_configured_endpoint() -> None:
    received: list[tuple[str, bytes]] = []

    class Collector(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((self.path, body))
            self.send_response(200)
            self.send_header("Content-Type", "application/x-protobuf")
            self.end_headers()

        def log_message(self, *_: object) -> None:
            return None

    server = HTTPServer(("127.0.0.1", 0), Collector)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        endpoint = f"http://127.0.0.1:{server.server_port}/"
        provider = otlp_provider("validation", {"OTEL_EXPORTER_OTLP_ENDPOINT": endpoint})
        assert provider is not None
        tracer = ServiceTracer("validation", provider)
        record = arrival_record()
        with tracer.consuming(
            from_headers(record.headers), topic=record.topic, consumer="c", partition=0, offset=7
        ):
            pass
        shutdown(provider)  # flushes the batch
    finally:
        server.shutdown()
    ((path, body),) = received
    assert path == "/v1/traces"
    assert b"driftline-validation" in body  # the resource's service.name
    assert bytes.fromhex(PARENT.split("-")[1]) in body  # the trace id the event carried
