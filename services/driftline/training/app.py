"""Composition of the training service."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

from driftline.runtime.service import ServiceDefinition, ServiceRuntime
from driftline.training.handlers import subscriptions
from driftline.training.http import routers
from driftline.training.pool import TrainingPool
from driftline.training.settings import TrainingSettings, training_section
from driftline.training.worker import TrainingWorker


def background(runtime: ServiceRuntime) -> list[Callable[[], Awaitable[None]]]:
    """The worker that claims queued jobs and trains them in processes."""
    section = training_section(runtime.section)
    worker = TrainingWorker(
        units=runtime.units,
        store=runtime.store,
        settings=section,
        pool=TrainingPool(section.max_workers),
    )
    return [worker.run_forever]


def definition() -> ServiceDefinition:
    """The training service: durable jobs from accepted data, specs and drift; runs over HTTP."""
    return ServiceDefinition(
        name="training",
        subscriptions=subscriptions,
        routers=routers,
        migrations=Path(__file__).parent / "migrations",
        settings_cls=TrainingSettings,
        background=background,
    )
