"""Composition of the audit service (runtime shell; its handlers land with its issue)."""

from driftline.runtime.service import ServiceDefinition


def definition() -> ServiceDefinition:
    """The audit service: health, readiness, metrics and outbox relay on the shared runtime."""
    return ServiceDefinition(name="audit")
