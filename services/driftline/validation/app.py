"""Composition of the validation service."""

from __future__ import annotations

from pathlib import Path

from driftline.runtime.openlineage import LineageEmitter
from driftline.runtime.service import ServiceDefinition, ServiceRuntime
from driftline.validation.deps import ValidationDeps
from driftline.validation.handlers import subscriptions
from driftline.validation.settings import ValidationSettings, validation_section


def dependencies(runtime: ServiceRuntime) -> ValidationDeps:
    """The object store and the loader limits, handed to the handlers as ``uow.deps``."""
    return ValidationDeps(
        store=runtime.store,
        settings=validation_section(runtime.section),
        lineage=LineageEmitter(runtime.settings.openlineage),
    )


def definition() -> ServiceDefinition:
    """The validation service: checks arriving data and emits DataValidated or DataRejected."""
    return ServiceDefinition(
        name="validation",
        subscriptions=subscriptions,
        migrations=Path(__file__).parent / "migrations",
        dependencies=dependencies,
        settings_cls=ValidationSettings,
    )
