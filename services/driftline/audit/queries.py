"""Read-side use cases of the audit log: load a lineage chain or the KPIs through a reader."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Protocol

from driftline.audit.core import AuditEntry
from driftline.audit.kpis import KPI_TYPES, Kpis, compute_kpis
from driftline.audit.lineage import (
    VERSION_STAGES,
    Lineage,
    UnknownEventError,
    find_version_event,
    lineage_of,
    passes_validation_of,
    trained_datasets,
    validation_of,
)
from driftline_contracts.events import DataValidated, PredictionsLogged

MAX_HOPS = 1000
"""A causation chain longer than this is cut (reported as a missing parent)."""
PAGE = 5000


class VersionNotFoundError(LookupError):
    """No event about the requested MODEL@VERSION is in the audit log."""


class AuditReader(Protocol):
    """What the read-side needs from the audit log (``PostgresAuditLog`` provides it)."""

    async def get(self, event_id: str) -> AuditEntry | None:
        """The entry of ``event_id``, or None."""

    async def query(
        self,
        *,
        subject: str | None = None,
        type_: str | None = None,
        after_seq: int = 0,
        limit: int = 1000,
    ) -> list[AuditEntry]:
        """Entries in chain order, filtered."""

    async def of_types(
        self,
        types: Sequence[str],
        *,
        since: datetime | None = None,
        after_seq: int = 0,
        limit: int = PAGE,
    ) -> list[AuditEntry]:
        """Entries whose type is one of ``types``, in chain order."""

    async def latest_per_subject(
        self, types: Sequence[str], since: datetime | None = None
    ) -> list[AuditEntry]:
        """The newest entry of each subject among ``types``."""


async def _every_page(fetch: Callable[[int], Awaitable[list[AuditEntry]]]) -> list[AuditEntry]:
    found: list[AuditEntry] = []
    while page := await fetch(found[-1].seq if found else 0):
        found.extend(page)
    return found


async def load_lineage(reader: AuditReader, event_id: str) -> Lineage:
    """The causation chain ending at ``event_id``, fetching one parent at a time."""
    current = await reader.get(event_id)
    if current is None:
        raise UnknownEventError(f"event {event_id} is not in the audit log")
    entries: dict[str, AuditEntry] = {}
    while current is not None and len(entries) < MAX_HOPS:
        entries[current.event_id] = current
        parent = current.causation_id
        if parent is None or parent in entries:
            break
        current = await reader.get(parent)
    return lineage_of(entries, event_id)


async def _entries(reader: AuditReader, subject: str, type_: str) -> list[AuditEntry]:
    return await _every_page(
        lambda after: reader.query(subject=subject, type_=type_, after_seq=after, limit=PAGE)
    )


async def load_version_lineage(reader: AuditReader, model: str, version: int) -> Lineage:
    """The chain from the data to the furthest stage MODEL@VERSION reached (promoted, rolled
    back, in canary, approved, rejected or registered), with the own chain of every trained-on
    dataset version the version's chain does not pass through (a training window of several
    versions, or a run that started from a spec or a drift)."""
    for stage in VERSION_STAGES:
        found = find_version_event(await _entries(reader, model, stage), model, version)
        if found is not None:
            break
    else:
        raise VersionNotFoundError(f"no event about {model}@{version} in the audit log")
    lineage = await load_lineage(reader, found.event_id)
    for dataset in trained_datasets(lineage):
        if passes_validation_of(lineage, dataset):
            continue
        accepted = await _entries(reader, dataset[0], DataValidated.ce_type)
        validated = validation_of(accepted, dataset)
        if validated is None:
            continue
        known = {s.event_id for s in lineage.data}
        chain = (await load_lineage(reader, validated.event_id)).steps
        lineage.data += [s for s in chain if s.event_id not in known]
    return lineage


async def load_kpis(
    reader: AuditReader, *, model: str | None, since: datetime | None, now: datetime
) -> Kpis:
    """KPIs from the lifecycle events plus each model's newest PredictionsLogged."""
    entries = await _every_page(
        lambda after: reader.of_types(KPI_TYPES, since=since, after_seq=after, limit=PAGE)
    )
    entries += await reader.latest_per_subject([PredictionsLogged.ce_type], since)
    return compute_kpis(entries, model=model, now=now, since=since)
