"""Which version serves each model, followed from ModelPromoted, and its artifact fetched.

Training learns the champion from deployment's own announcement (the event it already
declares training a consumer of), never from the registry's tables: the champion here is
the version that serves, and its artifact reference carries the sha256 to verify.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, func, select
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.ext.asyncio import AsyncSession

from driftline.runtime.errors import is_transient
from driftline.runtime.storage import ArtifactStore
from driftline.runtime.storage.errors import StorageError
from driftline.training.run_io import ChampionInput
from driftline_contracts.values import ArtifactRef

CHAMPION_FILE = "champion.skops"

champions = Table(
    "champions",
    MetaData(),
    Column("model", String(128), primary_key=True),
    Column("version", Integer, nullable=False),
    Column("artifact", JSONB, nullable=False),
    Column("promoted_at", DateTime(timezone=True), server_default=func.now()),
)


@dataclass(frozen=True)
class Champion:
    """The serving version of a model and its artifact."""

    model: str
    version: int
    artifact: ArtifactRef


class PostgresChampions:
    """The champion of each model, inside the caller's transaction."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def promoted(self, champion: Champion) -> None:
        """``champion`` now serves its model (promotions arrive in order, per model)."""
        row = {"model": champion.model, "version": champion.version,
               "artifact": champion.artifact.model_dump(mode="json")}  # fmt: skip
        statement = insert(champions).values(**row)
        await self._session.execute(statement.on_conflict_do_update(
            index_elements=["model"],
            set_={"version": row["version"], "artifact": row["artifact"],
                  "promoted_at": func.now()},
        ))  # fmt: skip

    async def get(self, model: str) -> Champion | None:
        """The model's champion, if one was promoted."""
        found = (await self._session.execute(
            select(champions.c.version, champions.c.artifact).where(champions.c.model == model)
        )).first()  # fmt: skip
        if found is None:
            return None
        return Champion(model, found.version, ArtifactRef.model_validate(found.artifact))


async def fetch_champion(
    store: ArtifactStore, model: str, champion: Champion | None, folder: Path
) -> ChampionInput:
    """The champion's artifact in ``folder``, sha256-verified, or why it is not there
    (a transient storage error is raised: the job is retried, not compared with nothing)."""
    if champion is None:
        return ChampionInput(model)
    try:
        data = await store.get_bytes(champion.artifact.uri, sha256=champion.artifact.sha256)
    except StorageError as exc:
        if is_transient(exc):
            raise
        problem = f"its artifact could not be read: {type(exc).__name__}: {exc}"
        return ChampionInput(model, champion.version, problem=problem[:1500])
    path = folder / CHAMPION_FILE
    path.write_bytes(data)
    return ChampionInput(model, champion.version, str(path))
