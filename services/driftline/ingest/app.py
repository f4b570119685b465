"""Composition of the ingest service."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from driftline.ingest.adapters.objects import StoreDatasetObjects, arrival_policy
from driftline.ingest.handlers import subscriptions
from driftline.ingest.http import routers
from driftline.ingest.ports import DatasetObjects
from driftline.ingest.settings import IngestSettings, ingest_section
from driftline.runtime.service import ServiceDefinition, ServiceRuntime


@dataclass(frozen=True)
class IngestDeps:
    """What ingest handlers get as ``uow.deps``."""

    objects: DatasetObjects


def dependencies(runtime: ServiceRuntime) -> IngestDeps:
    """Adapters built from the runtime's store and storage settings."""
    policy = arrival_policy(runtime.settings.storage)
    return IngestDeps(objects=StoreDatasetObjects(runtime.store, policy))


def streamed_bodies(runtime: ServiceRuntime) -> dict[str, int]:
    """Uploads stream to a spool file, so they may be larger than a JSON body."""
    return {"/v1/datasets/": ingest_section(runtime.section).max_upload_bytes}


def definition() -> ServiceDefinition:
    """The ingest service: uploads, checked pipeline arrivals and the dataset catalog."""
    return ServiceDefinition(
        name="ingest",
        subscriptions=subscriptions,
        routers=routers,
        streamed_bodies=streamed_bodies,
        migrations=Path(__file__).parent / "migrations",
        dependencies=dependencies,
        settings_cls=IngestSettings,
    )
