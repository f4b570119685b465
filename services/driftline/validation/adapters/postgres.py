"""Validation's tables in its PostgreSQL schema, used inside the caller's transaction."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Integer,
    MetaData,
    Row,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
    insert,
    select,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from driftline.stats.spec import Expectations
from driftline.validation.records import AcceptedVersion, Rejection
from driftline.validation.specs import SpecRecord
from driftline_contracts.values import ArtifactRef

metadata = MetaData()
model_specs = Table(
    "model_specs",
    metadata,
    Column("model", String(128), primary_key=True),
    Column("dataset", String(128), nullable=False, index=True),
    Column("target", String(128), nullable=False),
    Column("task", String(32), nullable=False),
    Column("spec_hash", String(64), nullable=False),
    Column("expectations", JSONB),
    Column("spec_error", Text),
    Column("updated_at", DateTime(timezone=True)),
)
accepted_versions = Table(
    "accepted_versions",
    metadata,
    Column("dataset", String(128), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("sha256", String(64), nullable=False),
    Column("uri", String(2048), nullable=False),
    Column("rows", BigInteger),
    Column("profile_uri", String(2048), nullable=False),
    Column("profile_sha256", String(64), nullable=False),
    Column("profile_size", BigInteger, nullable=False),
    Column("report_uri", String(2048), nullable=False),
    Column("event_id", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), server_default=func.now()),
    UniqueConstraint("dataset", "sha256", name="uq_accepted_versions_dataset_sha256"),
)
rejections = Table(
    "rejections",
    metadata,
    Column("dataset", String(128), primary_key=True),
    Column("sha256", String(64), primary_key=True),
    Column("fingerprint", String(64), primary_key=True),
    Column("reasons", JSONB, nullable=False),
    Column("report_uri", String(2048), nullable=False),
    Column("event_id", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), server_default=func.now()),
)
inferred_expectations = Table(
    "inferred_expectations",
    metadata,
    Column("dataset", String(128), primary_key=True),
    Column("expectations", JSONB, nullable=False),
    Column("from_version", Integer, nullable=False),
    Column("created_at", DateTime(timezone=True), server_default=func.now()),
)


def _spec(row: Row) -> SpecRecord:
    raw = row.expectations
    return SpecRecord(
        model=row.model,
        dataset=row.dataset,
        target=row.target,
        task=row.task,
        spec_hash=row.spec_hash,
        expectations=Expectations.model_validate(raw) if raw is not None else None,
        error=row.spec_error,
    )


def _accepted(row: Row) -> AcceptedVersion:
    profile = ArtifactRef(
        uri=row.profile_uri,
        sha256=row.profile_sha256,
        media_type="application/json",
        size_bytes=row.profile_size,
    )
    return AcceptedVersion(
        dataset=row.dataset,
        version=row.version,
        sha256=row.sha256,
        uri=row.uri,
        rows=row.rows,
        profile=profile,
        report_uri=row.report_uri,
        event_id=row.event_id,
    )


class PostgresValidationRepository:
    """Specs, accepted versions, rejections and inferred expectations in PostgreSQL."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def save_spec(self, spec: SpecRecord) -> None:
        """Insert or replace the spec of ``spec.model``."""
        values = {
            "model": spec.model,
            "dataset": spec.dataset,
            "target": spec.target,
            "task": spec.task,
            "spec_hash": spec.spec_hash,
            "expectations": spec.expectations.model_dump(mode="json")
            if spec.expectations is not None
            else None,
            "spec_error": spec.error,
        }
        statement = pg_insert(model_specs).values(**values)
        await self._session.execute(
            statement.on_conflict_do_update(
                index_elements=[model_specs.c.model],
                set_={**{k: statement.excluded[k] for k in values}, "updated_at": func.now()},
            )
        )

    async def specs_for(self, dataset: str) -> list[SpecRecord]:
        """Every spec whose model trains on ``dataset``, by model name."""
        rows = await self._session.execute(
            select(model_specs)
            .where(model_specs.c.dataset == dataset)
            .order_by(model_specs.c.model)
        )
        return [_spec(r) for r in rows]

    async def inferred(self, dataset: str) -> Expectations | None:
        """Expectations inferred from the accepted versions of ``dataset``, if any."""
        raw = await self._session.scalar(
            select(inferred_expectations.c.expectations).where(
                inferred_expectations.c.dataset == dataset
            )
        )
        return Expectations.model_validate(raw) if raw is not None else None

    async def save_inferred(self, dataset: str, expectations: Expectations, version: int) -> None:
        """Remember the expectations learnt up to accepted ``version`` (they replace older ones)."""
        statement = pg_insert(inferred_expectations).values(
            dataset=dataset, expectations=expectations.model_dump(mode="json"), from_version=version
        )
        await self._session.execute(
            statement.on_conflict_do_update(
                index_elements=[inferred_expectations.c.dataset],
                set_={
                    "expectations": statement.excluded.expectations,
                    "from_version": statement.excluded.from_version,
                },
            )
        )

    async def accepted(self, dataset: str, sha256: str) -> AcceptedVersion | None:
        """The accepted version of ``dataset`` with these bytes, if any."""
        row = (
            await self._session.execute(
                select(accepted_versions).where(
                    accepted_versions.c.dataset == dataset, accepted_versions.c.sha256 == sha256
                )
            )
        ).first()
        return _accepted(row) if row else None

    async def latest_accepted(self, dataset: str) -> AcceptedVersion | None:
        """The newest accepted version of ``dataset``, if any."""
        row = (
            await self._session.execute(
                select(accepted_versions)
                .where(accepted_versions.c.dataset == dataset)
                .order_by(accepted_versions.c.version.desc())
                .limit(1)
            )
        ).first()
        return _accepted(row) if row else None

    async def add_accepted(self, version: AcceptedVersion) -> None:
        """Insert an accepted version (a concurrent duplicate fails the transaction)."""
        await self._session.execute(
            insert(accepted_versions).values(
                dataset=version.dataset,
                version=version.version,
                sha256=version.sha256,
                uri=version.uri,
                rows=version.rows,
                profile_uri=version.profile.uri,
                profile_sha256=version.profile.sha256,
                profile_size=version.profile.size_bytes,
                report_uri=version.report_uri,
                event_id=version.event_id,
            )
        )

    async def rejected(self, dataset: str, sha256: str, fingerprint: str) -> bool:
        """Whether these bytes were already rejected under the same specs."""
        found = await self._session.scalar(
            select(rejections.c.event_id).where(
                rejections.c.dataset == dataset,
                rejections.c.sha256 == sha256,
                rejections.c.fingerprint == fingerprint,
            )
        )
        return found is not None

    async def add_rejection(self, rejection: Rejection) -> None:
        """Remember a rejection of these bytes under these specs."""
        statement = pg_insert(rejections).values(
            dataset=rejection.dataset,
            sha256=rejection.sha256,
            fingerprint=rejection.fingerprint,
            reasons=[r.model_dump(mode="json") for r in rejection.reasons],
            report_uri=rejection.report_uri,
            event_id=rejection.event_id,
        )
        await self._session.execute(statement.on_conflict_do_nothing())
