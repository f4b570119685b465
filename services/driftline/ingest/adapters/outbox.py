"""Announcing uploads as DataArrived through the unit of work's transactional outbox."""

from __future__ import annotations

from datetime import UTC, datetime

from driftline.ingest.models import Announced, Upload
from driftline.runtime.uow import UnitOfWork
from driftline_contracts.events.data import DataArrived
from driftline_contracts.values import DatasetRef


class OutboxUploadAnnouncer:
    """Queues DataArrived in the outbox: published only if the catalog row commits."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    async def data_arrived(self, upload: Upload) -> Announced:
        """Emit DataArrived for ``upload``; returns its event id and source."""
        event = DataArrived(
            dataset=DatasetRef(
                name=upload.name,
                uri=upload.uri,
                sha256=upload.sha256,
                format=upload.format,
                rows=upload.rows,
                size_bytes=upload.size_bytes,
            ),
            produced_at=datetime.now(UTC),
        )
        envelope = await self._uow.emit(event, actor=upload.actor)
        return Announced(event_id=envelope.id, source=envelope.source)
