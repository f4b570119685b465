"""Composition of the monitoring service."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter

from driftline.monitoring.handlers import subscriptions
from driftline.monitoring.http import drift_router
from driftline.monitoring.reference import MonitoringDeps, dropped_rows_counter
from driftline.monitoring.settings import MonitoringSettings, monitoring_section
from driftline.runtime.service import ServiceDefinition, ServiceRuntime


def dependencies(runtime: ServiceRuntime) -> MonitoringDeps:
    """The object store, drift settings and a counter, handed to the handlers as ``uow.deps``."""
    return MonitoringDeps(
        store=runtime.store,
        settings=monitoring_section(runtime.section),
        dropped=dropped_rows_counter(runtime.metrics.registry),
    )


def routers(runtime: ServiceRuntime) -> list[APIRouter]:
    """The drift report endpoints."""
    return [drift_router(runtime)]


def definition() -> ServiceDefinition:
    """The monitoring service: count windows, drift tests, episodes, reports."""
    return ServiceDefinition(
        name="monitoring",
        subscriptions=subscriptions,
        routers=routers,
        migrations=Path(__file__).parent / "migrations",
        dependencies=dependencies,
        settings_cls=MonitoringSettings,
    )
