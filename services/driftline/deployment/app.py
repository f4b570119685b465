"""Composition of the deployment service (runtime shell; its handlers land with its issue)."""

from driftline.runtime.service import ServiceDefinition


def definition() -> ServiceDefinition:
    """The deployment service: health, readiness, metrics and outbox relay on the shared runtime."""
    return ServiceDefinition(name="deployment")
