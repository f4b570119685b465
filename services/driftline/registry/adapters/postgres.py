"""PostgreSQL tables of the registry schema and the stores over them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    bindparam,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from driftline.registry.alias_reads import CHANNEL as ALIAS_CHANNEL
from driftline.registry.models import Alias, ModelVersion, Rollback, RunContext, SpecRecord, Status
from driftline.runtime.notified_cache import notify_changed
from driftline_contracts.values import Reason

metadata = MetaData()
specs = Table(
    "specs", metadata,
    Column("model", String(128), primary_key=True), Column("version", Integer, primary_key=True),
    Column("spec_hash", String(64), nullable=False), Column("spec", JSONB, nullable=False),
    Column("applied_by", String(256), nullable=False), Column("event_id", String(64), unique=True),
    Column("created_at", DateTime(timezone=True), server_default=func.now()),
)  # fmt: skip
model_versions = Table(
    "model_versions", metadata,
    Column("model", String(128), primary_key=True), Column("version", Integer, primary_key=True),
    Column("run_id", String(128), nullable=False), Column("status", String(16), nullable=False),
    Column("approval", String(16), nullable=False), Column("dataset", JSONB, nullable=False),
    Column("artifact", JSONB, nullable=False), Column("spec_hash", String(64), nullable=False),
    Column("code_version", String(128), nullable=False), Column("seed", BigInteger, nullable=False),
    Column("metrics", JSONB, nullable=False), Column("params", JSONB, nullable=False),
    Column("trainer", String(256), nullable=False),
    Column("trained_by", String(256), nullable=False),
    Column("gates", JSONB, nullable=False), Column("reasons", JSONB, nullable=False),
    Column("notes", JSONB, nullable=False),
    Column("compared_to", Integer), Column("decided_by", String(256)), Column("comment", Text),
    Column("event_id", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), server_default=func.now()),
    Column("decided_at", DateTime(timezone=True)),
    Column("correlation_id", String(128)),  # g0002: the ModelTrained event's (any event id)
    UniqueConstraint("model", "run_id", name="uq_model_versions_model_run"),
)  # fmt: skip
aliases = Table(
    "aliases", metadata,
    Column("model", String(128), primary_key=True), Column("alias", String(32), primary_key=True),
    Column("version", Integer, nullable=False),
    Column("updated_at", DateTime(timezone=True), server_default=func.now()),
)  # fmt: skip
rollbacks = Table(
    "rollbacks", metadata,
    Column("model", String(128), primary_key=True),
    Column("canary_id", String(128), primary_key=True), Column("version", Integer, nullable=False),
    Column("step", Integer, nullable=False), Column("traffic_percent", Float, nullable=False),
    Column("verdict", String(16), nullable=False), Column("reasons", JSONB, nullable=False),
    Column("created_at", DateTime(timezone=True), server_default=func.now()),
)  # fmt: skip

# Statements of the registration path, built once: building them per call cost more CPU than
# PostgreSQL spent running them.
LATEST_SPEC = (
    select(specs).where(specs.c.model == bindparam("model"))
    .order_by(specs.c.version.desc()).limit(1)
)  # fmt: skip
_mv = model_versions.c
RUN_CONTEXT = select(
    select(_mv.version).where(_mv.model == bindparam("model"), _mv.run_id == bindparam("run_id"))
    .limit(1).scalar_subquery().label("known_version"),
    select(func.max(_mv.version)).where(_mv.model == bindparam("model"))
    .scalar_subquery().label("latest_version"),
)  # fmt: skip
ADD_PENDING = insert(model_versions)
ALIASES_OF = select(aliases).where(aliases.c.model == bindparam("model")).order_by(aliases.c.alias)
# Upsert every moved alias and notify readers by alias (delivered when the transaction commits).
MOVE_ALIASES = text("""
    WITH moved AS (
        INSERT INTO aliases (model, alias, version, updated_at)
        SELECT :model, m.alias, m.version, now()
        FROM unnest(CAST(:aliases AS varchar[]), CAST(:versions AS integer[])) AS m(alias, version)
        ON CONFLICT (model, alias)
        DO UPDATE SET version = excluded.version, updated_at = excluded.updated_at
    )
    SELECT pg_notify(:channel, :model)
""")
ADD_DECIDED = insert(model_versions).values(decided_at=func.now())


def _spec(row: Any) -> SpecRecord:
    return SpecRecord(model=row.model, version=row.version, spec_hash=row.spec_hash,
                      spec=row.spec, applied_by=row.applied_by, event_id=row.event_id,
                      applied_at=row.created_at)  # fmt: skip


def _version(row: Any) -> ModelVersion:
    return ModelVersion.model_validate(dict(row._mapping))


LATEST_SPECS_READ = "registry.latest_specs"  # session.info key: this transaction's reads


class PostgresSpecHistory:
    """Applied specs in PostgreSQL, inside the caller's transaction.

    A model's newest spec is read once per transaction (a batch of registrations for one
    model reads it once); adding a spec in the transaction forgets that read.
    """

    def __init__(self, session: AsyncSession) -> None:
        self._session = session
        self._read: dict[str, SpecRecord | None] = session.info.setdefault(LATEST_SPECS_READ, {})

    async def latest(self, model: str) -> SpecRecord | None:
        """The newest spec of ``model``."""
        if model not in self._read:
            row = (await self._session.execute(LATEST_SPEC, {"model": model})).first()
            self._read[model] = _spec(row) if row else None
        return self._read[model]

    async def history(self, model: str) -> list[SpecRecord]:
        """Every spec of ``model``, oldest first."""
        rows = await self._session.execute(
            select(specs).where(specs.c.model == model).order_by(specs.c.version)
        )
        return [_spec(r) for r in rows]

    async def add(self, record: SpecRecord) -> None:
        """Insert a spec version."""
        self._read.pop(record.model, None)
        await self._session.execute(
            insert(specs).values(**record.model_dump(exclude={"applied_at"}))
        )

    async def has_event(self, event_id: str) -> bool:
        """Whether a stored spec came from the event ``event_id``."""
        found = await self._session.scalar(
            select(specs.c.model).where(specs.c.event_id == event_id)
        )
        return found is not None

    async def models(self) -> dict[str, SpecRecord]:
        """The newest spec of every model."""
        newest = select(specs.c.model, func.max(specs.c.version).label("v")).group_by(specs.c.model)
        sub = newest.subquery()
        rows = await self._session.execute(
            select(specs).join(sub, (specs.c.model == sub.c.model) & (specs.c.version == sub.c.v))
        )
        return {r.model: _spec(r) for r in rows}


class PostgresModelVersions:
    """Model versions, aliases and rollbacks in PostgreSQL, inside the caller's transaction."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def _one(self, *where: Any) -> ModelVersion | None:
        row = (await self._session.execute(select(model_versions).where(*where))).first()
        return _version(row) if row else None

    async def run_context(self, model: str, run_id: str) -> RunContext:
        """The run's version if it has one and the newest number, in one query (a registration
        otherwise spent most of its time on round trips to PostgreSQL)."""
        row = (await self._session.execute(RUN_CONTEXT, {"model": model, "run_id": run_id})).one()
        return RunContext(known_version=row.known_version, latest_version=row.latest_version or 0)

    async def get(self, model: str, version: int) -> ModelVersion | None:
        """Version ``version`` of ``model``."""
        return await self._one(model_versions.c.model == model, model_versions.c.version == version)

    async def latest_number(self, model: str) -> int:
        """Highest version number of ``model`` (0 when none)."""
        value = await self._session.scalar(
            select(func.max(model_versions.c.version)).where(model_versions.c.model == model)
        )
        return int(value or 0)

    async def versions(self, model: str) -> list[ModelVersion]:
        """Versions of ``model``, oldest first."""
        rows = await self._session.execute(
            select(model_versions).where(model_versions.c.model == model)
            .order_by(model_versions.c.version)
        )  # fmt: skip
        return [_version(r) for r in rows]

    async def add(self, version: ModelVersion) -> None:
        """Insert a new version."""
        values = version.model_dump(mode="json", exclude={"created_at", "decided_at"})
        await self._session.execute(
            ADD_PENDING if version.status == "pending" else ADD_DECIDED, values
        )

    async def decide(
        self, model: str, version: int, status: Status, *, by: str,
        reasons: list[Reason], comment: str | None, from_status: Status = "pending",
    ) -> bool:  # fmt: skip
        """Move a version from ``from_status`` to ``status``; False if it had moved on."""
        result = await self._session.execute(
            update(model_versions)
            .where(model_versions.c.model == model, model_versions.c.version == version,
                   model_versions.c.status == from_status)
            .values(status=status, decided_by=by, comment=comment, decided_at=func.now(),
                    reasons=[r.model_dump(mode="json") for r in reasons])
            .returning(model_versions.c.version)
        )  # fmt: skip
        moved = result.first() is not None
        if moved:
            await notify_changed(self._session, ALIAS_CHANNEL, model)
        return moved

    async def aliases(self, model: str) -> list[Alias]:
        """The aliases of ``model``."""
        rows = await self._session.execute(ALIASES_OF, {"model": model})
        return [Alias(alias=r.alias, version=r.version, updated_at=r.updated_at) for r in rows]

    async def set_aliases(self, model: str, moved: dict[str, int]) -> None:
        """Point each alias at its version and tell every reader by alias, in one statement."""
        if moved:
            await self._session.execute(MOVE_ALIASES, {
                "model": model, "aliases": list(moved), "versions": list(moved.values()),
                "channel": ALIAS_CHANNEL,
            })  # fmt: skip

    async def add_rollback(self, model: str, rollback: Rollback) -> None:
        """Record a rolled-back canary (once per rollout)."""
        values = rollback.model_dump(mode="json", exclude={"at"})
        await self._session.execute(
            pg_insert(rollbacks).values(model=model, **values).on_conflict_do_nothing()
        )

    async def rollbacks(self, model: str) -> list[Rollback]:
        """Rolled-back canaries of ``model``, oldest first."""
        rows = await self._session.execute(
            select(rollbacks).where(rollbacks.c.model == model).order_by(rollbacks.c.created_at)
        )
        return [Rollback(version=r.version, canary_id=r.canary_id, step=r.step,
                         traffic_percent=r.traffic_percent, verdict=r.verdict,
                         reasons=r.reasons, at=r.created_at) for r in rows]  # fmt: skip

    async def summaries(self) -> dict[str, tuple[int, int]]:
        """Every model with versions: (count, latest version)."""
        rows = await self._session.execute(
            select(model_versions.c.model, func.count(), func.max(model_versions.c.version))
            .group_by(model_versions.c.model)
        )  # fmt: skip
        return {r[0]: (int(r[1]), int(r[2])) for r in rows}

    async def champions(self) -> dict[str, int]:
        """The champion version of every model that has one."""
        rows = await self._session.execute(select(aliases).where(aliases.c.alias == "champion"))
        return {r.model: r.version for r in rows}
