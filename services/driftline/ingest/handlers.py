"""Ingest handlers: thin subscribers that call the catalog core."""

from __future__ import annotations

from driftline.ingest.adapters.postgres import PostgresDatasetCatalog
from driftline.ingest.adapters.rejections import PostgresRejectedArrivals
from driftline.ingest.core import admit_arrival
from driftline.ingest.models import Arrival
from driftline.ingest.ports import DatasetObjects
from driftline.runtime.consumer import Subscription
from driftline.runtime.logging import get_logger
from driftline.runtime.uow import UnitOfWork
from driftline_contracts.events.data import DataArrived, DataRejected, DataValidated

log = get_logger(__name__)


async def on_data_arrived(event: DataArrived, uow: UnitOfWork) -> None:
    """Catalogue a pipeline's arrival once its object checks out; record a refusal otherwise."""
    assert uow.cause is not None
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
        log.info("dataset arrival catalogued", version=admission.version.version, new=admission.new)


async def on_data_validated(event: DataValidated, uow: UnitOfWork) -> None:
    """Show validation's verdict and profile on the catalogued version."""
    await PostgresDatasetCatalog(uow.session).record_validation(
        event.dataset.name,
        event.dataset.sha256,
        "validated",
        event.profile.uri,
        event.report.uri if event.report else None,
    )


async def on_data_rejected(event: DataRejected, uow: UnitOfWork) -> None:
    """Show validation's rejection on the catalogued version."""
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
        Subscription(DataArrived, on_data_arrived),
        Subscription(DataValidated, on_data_validated),
        Subscription(DataRejected, on_data_rejected),
    ]
