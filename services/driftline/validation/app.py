"""Composition of the validation service (runtime shell; its handlers land with its issue)."""

from driftline.runtime.service import ServiceDefinition


def definition() -> ServiceDefinition:
    """The validation service: health, readiness, metrics and outbox relay on the shared runtime."""
    return ServiceDefinition(name="validation")
