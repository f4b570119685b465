"""Ingest handlers: thin subscribers that call the catalog core."""

from __future__ import annotations

from driftline.ingest.adapters.postgres import PostgresDatasetCatalog
from driftline.ingest.core import Arrival, catalog_arrival
from driftline.runtime.consumer import Subscription
from driftline.runtime.logging import get_logger
from driftline.runtime.uow import UnitOfWork
from driftline_contracts.events.data import DataArrived

log = get_logger(__name__)


async def on_data_arrived(event: DataArrived, uow: UnitOfWork) -> None:
    """Catalogue a pipeline's arrival: the same bytes twice are one version."""
    assert uow.cause is not None
    arrival = Arrival(
        name=event.dataset.name,
        sha256=event.dataset.sha256,
        uri=event.dataset.uri,
        format=event.dataset.format,
        size_bytes=event.dataset.size_bytes,
        rows=event.dataset.rows,
        source=uow.cause.source,
        actor=uow.cause.actor,
        event_id=uow.cause.id,
    )
    version, new = await catalog_arrival(PostgresDatasetCatalog(uow.session), arrival)
    log.info("dataset arrival catalogued", version=version.version, new=new)


def subscriptions(_: object) -> list[Subscription]:
    """What the ingest service consumes."""
    return [Subscription(DataArrived, on_data_arrived)]
