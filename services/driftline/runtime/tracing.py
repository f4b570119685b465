"""OpenTelemetry traces across HTTP and Kafka: the tracer of a service, and the trace context
events carry (the CloudEvents distributed-tracing extension: ``ce_traceparent``,
``ce_tracestate``).

Tracing is off (no spans, no cost beyond a context look-up) unless the process is told where
to export: ``OTEL_EXPORTER_OTLP_ENDPOINT`` or ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`` (OTLP over
HTTP). Tests pass their own provider (an in-memory exporter) to ``ServiceRuntime``. Off or on,
an event emitted while handling another carries a trace context: the handling span's when one
is recording, else the cause's own (passed through unchanged), so one untraced service does not
cut a trace in two.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.trace import Span, SpanKind, Tracer, TracerProvider
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from opentelemetry.util.types import AttributeValue

if TYPE_CHECKING:
    from driftline_contracts.envelope import Envelope

ENDPOINT_VARIABLES = ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT")
_PROPAGATOR = TraceContextTextMapPropagator()


@dataclass(frozen=True)
class TraceContext:
    """A W3C trace context as text: what travels in ``traceparent`` / ``tracestate``."""

    traceparent: str
    tracestate: str | None = None


def otlp_provider(service: str, environ: Mapping[str, str] = os.environ) -> TracerProvider | None:
    """An SDK provider exporting over OTLP/HTTP when the environment names an endpoint, else
    None (tracing off). ``OTEL_SDK_DISABLED=true`` turns it off whatever else is set."""
    if environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return None
    endpoint = _traces_endpoint(environ)
    if endpoint is None:
        return None
    # Imported here: a process that does not export never loads the exporter (or protobuf).
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider as SdkTracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    # Headers and timeout come from the standard variables too; the sampler follows
    # OTEL_TRACES_SAMPLER (default: parent-based, always on).
    resource = Resource.create({"service.name": f"driftline-{service}"})
    provider = SdkTracerProvider(resource=resource)
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
    return provider


def _traces_endpoint(environ: Mapping[str, str]) -> str | None:
    """The traces URL: ``..._TRACES_ENDPOINT`` as given, else ``..._ENDPOINT`` + /v1/traces."""
    traces = environ.get(ENDPOINT_VARIABLES[0], "").strip()
    if traces:
        return traces
    base = environ.get(ENDPOINT_VARIABLES[1], "").strip()
    return f"{base.rstrip('/')}/v1/traces" if base else None


def shutdown(provider: TracerProvider | None) -> None:
    """Flush and stop a provider this process built (the API's no-op has nothing to stop)."""
    stop = getattr(provider, "shutdown", None)
    if stop is not None:
        stop()


def current_context() -> TraceContext | None:
    """The trace context of the span active now, if one is valid."""
    if not trace.get_current_span().get_span_context().is_valid:
        return None
    carrier: dict[str, str] = {}
    _PROPAGATOR.inject(carrier)
    return TraceContext(carrier["traceparent"], carrier.get("tracestate"))


def outgoing_context(cause: Envelope | None) -> TraceContext | None:
    """What an event emitted now carries: the active span's context, else its cause's."""
    context = current_context()
    if context is None and cause is not None and cause.traceparent is not None:
        return TraceContext(cause.traceparent, cause.tracestate)
    return context


def parent_of(traceparent: str | None, tracestate: str | None = None) -> Context | None:
    """The OpenTelemetry context to continue, from W3C header values (None: start a trace)."""
    if not traceparent:
        return None
    carrier = {"traceparent": traceparent}
    if tracestate:
        carrier["tracestate"] = tracestate
    return _PROPAGATOR.extract(carrier)


def name_request_span(method: str, route: str) -> None:
    """Name the active HTTP request span after its route template (``POST /v1/x/{name}``).

    ``NamedByRoute`` does it for requests the router answers; an answer that skips the router
    (deployment's predict fast path) calls this itself. A no-op when nothing records.
    """
    span = trace.get_current_span()
    if span.is_recording():
        span.update_name(f"{method} {route}")
        span.set_attribute("http.route", route)


def event_attributes(envelope: Envelope) -> dict[str, str]:
    """Span attributes naming an event (CloudEvents semantic conventions)."""
    return {
        "cloudevents.event_id": envelope.id,
        "cloudevents.event_type": envelope.type,
        "cloudevents.event_source": envelope.source,
        "cloudevents.event_subject": envelope.subject,
        "driftline.correlation_id": envelope.correlationid,
    }


class ServiceTracer:
    """Starts the spans of one service; every call is a no-op when tracing is off."""

    def __init__(self, service: str, provider: TracerProvider | None) -> None:
        self.service = service
        self.enabled = provider is not None
        self._tracer: Tracer | None = (
            provider.get_tracer(f"driftline.{service}") if provider is not None else None
        )

    @contextmanager
    def consuming(
        self, envelope: Envelope, *, topic: str, consumer: str, partition: int, offset: int
    ) -> Iterator[Span | None]:
        """A CONSUMER span for one handled record, a child of the trace the event carries."""
        if self._tracer is None:
            yield None
            return
        attributes: dict[str, AttributeValue] = {
            **event_attributes(envelope),
            "messaging.system": "kafka",
            "messaging.operation.type": "process",
            "messaging.destination.name": topic,
            "messaging.consumer.group.name": f"driftline.{consumer}",
            "messaging.destination.partition.id": str(partition),
            "messaging.kafka.offset": offset,
            "messaging.message.id": envelope.id,
            "driftline.service": self.service,
        }
        with self._tracer.start_as_current_span(
            f"process {envelope.type}",
            context=parent_of(envelope.traceparent, envelope.tracestate),
            kind=SpanKind.CONSUMER,
            attributes=attributes,
        ) as span:
            yield span

    @contextmanager
    def continuing(self, cause: Envelope | None, name: str) -> Iterator[None]:
        """An INTERNAL span continuing ``cause``'s trace, for work done outside a consumer
        (a background job acting on a stored cause); nothing when a span is already active."""
        if (
            self._tracer is None
            or cause is None
            or cause.traceparent is None
            or trace.get_current_span().get_span_context().is_valid
        ):
            yield
            return
        with self._tracer.start_as_current_span(
            name,
            context=parent_of(cause.traceparent, cause.tracestate),
            attributes={**event_attributes(cause), "driftline.service": self.service},
        ):
            yield

    def server_span_tracer(self) -> Tracer | None:
        """The tracer HTTP requests use (None when tracing is off)."""
        return self._tracer
