"""Composition of the ingest service."""

from pathlib import Path

from driftline.ingest.handlers import subscriptions
from driftline.ingest.http import routers
from driftline.runtime.service import ServiceDefinition


def definition() -> ServiceDefinition:
    """The ingest service: catalogues DataArrived and serves the dataset catalog."""
    return ServiceDefinition(
        name="ingest",
        subscriptions=subscriptions,
        routers=routers,
        migrations=Path(__file__).parent / "migrations",
    )
