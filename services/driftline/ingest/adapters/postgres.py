"""PostgreSQL dataset catalog (table ``dataset_versions`` in the ingest schema).

A row is one catalogued upload: ``upload`` numbers every distinct upload or arrival, ``version``
is the accepted version validation assigned (null until then, and for rejected uploads).
"""

from __future__ import annotations

from dataclasses import asdict, fields

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    ColumnElement,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    UniqueConstraint,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from driftline.ingest.models import DatasetCounts, DatasetVersion

metadata = MetaData()
dataset_versions = Table(
    "dataset_versions",
    metadata,
    Column("name", String(128), primary_key=True),
    Column("upload", Integer, primary_key=True),
    Column("sha256", String(64), nullable=False),
    Column("uri", String(2048), nullable=False),
    Column("format", String(16), nullable=False),
    Column("size_bytes", BigInteger),
    Column("rows", BigInteger),
    Column("source", String(256), nullable=False),
    Column("actor", String(256), nullable=False),
    Column("event_id", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), server_default=func.now()),
    Column("uploaded_by", String(256)),
    Column("validation_status", String(16)),
    Column("profile_uri", String(2048)),
    Column("report_uri", String(2048)),
    Column("version", Integer),
    UniqueConstraint("name", "sha256", name="uq_dataset_versions_name_sha256"),
    CheckConstraint(
        "validation_status IN ('validated', 'rejected')",
        name="ck_dataset_versions_validation_status",
    ),
)
validation_outcomes = Table(
    "validation_outcomes",
    metadata,
    Column("name", String(128), primary_key=True),
    Column("sha256", String(64), primary_key=True),
    Column("status", String(16), nullable=False),
    Column("profile_uri", String(2048)),
    Column("report_uri", String(2048)),
    Column("version", Integer),
)
_FIELDS = [f.name for f in fields(DatasetVersion)]


def _version(row: object) -> DatasetVersion:
    return DatasetVersion(**{name: getattr(row, name) for name in _FIELDS})


class PostgresDatasetCatalog:
    """Dataset versions in PostgreSQL, inside the caller's transaction."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def find(self, name: str, sha256: str) -> DatasetVersion | None:
        """The version of ``name`` with these bytes, if catalogued."""
        row = (
            await self._session.execute(
                select(dataset_versions).where(
                    dataset_versions.c.name == name, dataset_versions.c.sha256 == sha256
                )
            )
        ).first()
        return _version(row) if row else None

    async def latest_upload(self, name: str) -> int:
        """Highest upload number of ``name`` (0 when none)."""
        value = await self._session.scalar(
            select(func.max(dataset_versions.c.upload)).where(dataset_versions.c.name == name)
        )
        return int(value or 0)

    async def latest_version(self, name: str) -> int | None:
        """Highest accepted version of ``name`` (None when none is accepted)."""
        value = await self._session.scalar(
            select(func.max(dataset_versions.c.version)).where(dataset_versions.c.name == name)
        )
        return None if value is None else int(value)

    async def add(self, version: DatasetVersion) -> None:
        """Insert a new version."""
        values = {k: v for k, v in asdict(version).items() if k != "created_at"}
        await self._session.execute(insert(dataset_versions).values(**values))
        await self._copy_outcome(version.name, version.sha256)

    async def get(self, name: str, version: int) -> DatasetVersion | None:
        """The upload of ``name`` accepted as ``version``, if any."""
        return await self._one(name, dataset_versions.c.version == version)

    async def get_upload(self, name: str, upload: int) -> DatasetVersion | None:
        """Upload number ``upload`` of ``name``, if catalogued."""
        return await self._one(name, dataset_versions.c.upload == upload)

    async def _one(self, name: str, condition: ColumnElement[bool]) -> DatasetVersion | None:
        row = (
            await self._session.execute(
                select(dataset_versions).where(dataset_versions.c.name == name, condition)
            )
        ).first()
        return _version(row) if row else None

    async def record_validation(
        self,
        name: str,
        sha256: str,
        status: str,
        profile_uri: str | None,
        report_uri: str | None = None,
        version: int | None = None,
    ) -> None:
        """Keep validation's verdict for these bytes and show it on the catalogued version.

        Validation may answer before ingest has catalogued the arrival (separate topics),
        so the verdict is stored on its own and copied when the version row appears.
        """
        await self._session.execute(
            pg_insert(validation_outcomes)
            .values(
                name=name,
                sha256=sha256,
                status=status,
                profile_uri=profile_uri,
                report_uri=report_uri,
                version=version,
            )
            .on_conflict_do_update(
                index_elements=["name", "sha256"],
                set_={
                    "status": status,
                    "profile_uri": profile_uri,
                    "report_uri": report_uri,
                    "version": version,
                },
            )
        )
        await self._copy_outcome(name, sha256)

    async def _copy_outcome(self, name: str, sha256: str) -> None:
        outcome = (
            await self._session.execute(
                select(validation_outcomes).where(
                    validation_outcomes.c.name == name, validation_outcomes.c.sha256 == sha256
                )
            )
        ).first()
        if outcome is not None:
            await self._session.execute(
                update(dataset_versions)
                .where(dataset_versions.c.name == name, dataset_versions.c.sha256 == sha256)
                .values(
                    validation_status=outcome.status,
                    profile_uri=outcome.profile_uri,
                    report_uri=outcome.report_uri,
                    version=outcome.version,
                )
            )

    async def exists(self, name: str) -> bool:
        """Whether ``name`` has any upload."""
        return await self.latest_upload(name) > 0

    async def names(self) -> list[DatasetCounts]:
        """Every dataset with its upload and accepted-version counts."""
        c = dataset_versions.c
        counts = (func.count(), func.max(c.upload), func.count(c.version), func.max(c.version))
        rows = await self._session.execute(
            select(c.name, *counts).group_by(c.name).order_by(c.name)
        )
        return [DatasetCounts(r[0], int(r[1]), int(r[2]), int(r[3]), r[4]) for r in rows]

    async def versions(self, name: str) -> list[DatasetVersion]:
        """Every catalogued upload of ``name``, oldest first."""
        rows = await self._session.execute(
            select(dataset_versions)
            .where(dataset_versions.c.name == name)
            .order_by(dataset_versions.c.upload)
        )
        return [_version(r) for r in rows]
