"""Composition of the monitoring service."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

from fastapi import APIRouter

from driftline.monitoring.episode_metrics import open_since_gauge, refresh_forever
from driftline.monitoring.handlers import subscriptions
from driftline.monitoring.http import drift_router
from driftline.monitoring.reference import MonitoringDeps, dropped_rows_counter
from driftline.monitoring.row_flags import flagged_rows_counter, window_rows_counter
from driftline.monitoring.settings import MonitoringSettings, monitoring_section
from driftline.runtime.service import ServiceDefinition, ServiceRuntime


def dependencies(runtime: ServiceRuntime) -> MonitoringDeps:
    """The object store, drift settings and counters, handed to the handlers as ``uow.deps``."""
    registry = runtime.metrics.registry
    return MonitoringDeps(
        store=runtime.store,
        settings=monitoring_section(runtime.section),
        dropped=dropped_rows_counter(registry),
        flagged=flagged_rows_counter(registry),
        evaluated=window_rows_counter(registry),
    )


def routers(runtime: ServiceRuntime) -> list[APIRouter]:
    """The drift report endpoints."""
    return [drift_router(runtime)]


def background(runtime: ServiceRuntime) -> list[Callable[[], Awaitable[None]]]:
    """Keeps ``driftline_drift_episode_open_since_timestamp_seconds`` in step with the table."""
    gauge = open_since_gauge(runtime.metrics.registry)

    async def refresh_open_episodes() -> None:
        await refresh_forever(runtime, gauge)

    return [refresh_open_episodes]


def definition() -> ServiceDefinition:
    """The monitoring service: count windows, drift tests, episodes, reports."""
    return ServiceDefinition(
        name="monitoring",
        subscriptions=subscriptions,
        routers=routers,
        migrations=Path(__file__).parent / "migrations",
        dependencies=dependencies,
        settings_cls=MonitoringSettings,
        background=background,
    )
