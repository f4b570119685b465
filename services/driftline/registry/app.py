"""Composition of the registry service."""

from __future__ import annotations

from pathlib import Path

from driftline.registry.alias_reads import background, dependencies
from driftline.registry.handlers import subscriptions
from driftline.registry.http import routers
from driftline.runtime.service import ServiceDefinition


def definition() -> ServiceDefinition:
    """The registry service: specs, versions, quality gates, approval, aliases and lineage."""
    return ServiceDefinition(
        name="registry",
        subscriptions=subscriptions,
        routers=routers,
        migrations=Path(__file__).parent / "migrations",
        dependencies=dependencies,
        background=background,
    )
