"""Ingest handlers: thin subscribers that call the catalog core."""

from __future__ import annotations

from typing import TYPE_CHECKING

from driftline.ingest.adapters.postgres import PostgresDatasetCatalog
from driftline.ingest.adapters.rejections import PostgresRejectedArrivals
from driftline.ingest.core import admit_arrival
from driftline.ingest.models import Arrival
from driftline.ingest.ports import DatasetObjects
from driftline.runtime.consumer import Subscription
from driftline.runtime.logging import get_logger
from driftline.runtime.uow import EventUnit
from driftline_contracts.events.data import DataArrived, DataRejected, DataValidated

if TYPE_CHECKING:  # the app module imports these handlers
    from driftline.ingest.app import IngestDeps

log = get_logger(__name__)


async def on_data_arrived(event: DataArrived, uow: EventUnit[IngestDeps]) -> None:
    """Catalogue a pipeline's arrival once its object checks out; record a refusal otherwise."""
    ref = event.dataset
    arrival = Arrival(
        name=ref.name, sha256=ref.sha256, uri=ref.uri, format=ref.format,
        size_bytes=ref.size_bytes, rows=ref.rows,
        source=uow.cause.source, actor=uow.cause.actor, event_id=uow.cause.id,
    )  # fmt: skip
    objects: DatasetObjects = uow.deps.objects
    admission = await admit_arrival(
        arrival,
        catalog=PostgresDatasetCatalog(uow.session),
        objects=objects,
        rejected=PostgresRejectedArrivals(uow.session),
    )
    if admission.rejection is not None:
        log.warning("dataset arrival rejected", code=admission.rejection.code,
                    reason=admission.rejection.message, uri=ref.uri)  # fmt: skip
    else:
        assert admission.version is not None
        log.info("dataset arrival catalogued", upload=admission.version.upload, new=admission.new)


async def on_data_validated(event: DataValidated, uow: EventUnit[IngestDeps]) -> None:
    """Show validation's verdict, profile and accepted version on the catalogued upload."""
    await PostgresDatasetCatalog(uow.session).record_validation(
        event.dataset.name,
        event.dataset.sha256,
        "validated",
        event.profile.uri,
        event.report.uri if event.report else None,
        version=event.dataset.version,
    )


async def on_data_rejected(event: DataRejected, uow: EventUnit[IngestDeps]) -> None:
    """Show validation's rejection on the catalogued upload (it gets no version)."""
    profile = event.profile.uri if event.profile else None
    await PostgresDatasetCatalog(uow.session).record_validation(
        event.dataset.name,
        event.dataset.sha256,
        "rejected",
        profile,
        event.report.uri if event.report else None,
    )


def subscriptions(_: object) -> list[Subscription]:
    """What the ingest service consumes."""
    return [
        Subscription(on_data_arrived),
        Subscription(on_data_validated),
        Subscription(on_data_rejected),
    ]
