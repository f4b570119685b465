"""Pending drift retrains: a DriftDetected training could not answer yet, kept per model."""

from __future__ import annotations

from sqlalchemy import Column, DateTime, MetaData, String, Table, Text, delete, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from driftline_contracts.envelope import Envelope

pending_drifts = Table(
    "pending_drifts",
    MetaData(),
    Column("model", String(128), primary_key=True),
    Column("cause", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), server_default=func.now()),
)


class PendingDrifts:
    """The newest unanswered DriftDetected of each model, inside the caller's transaction."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def keep(self, model: str, cause: Envelope) -> None:
        """Remember ``cause`` (a DriftDetected) as the model's pending drift; newest wins."""
        row = {"model": model, "cause": cause.model_dump_json()}
        statement = insert(pending_drifts).values(**row)
        await self._session.execute(
            statement.on_conflict_do_update(
                index_elements=["model"], set_={"cause": row["cause"], "created_at": func.now()}
            )
        )

    async def get(self, model: str) -> Envelope | None:
        """The model's pending drift, if any."""
        found = await self._session.scalar(
            select(pending_drifts.c.cause).where(pending_drifts.c.model == model)
        )
        return None if found is None else Envelope.model_validate_json(found)

    async def forget(self, model: str) -> None:
        """The pending drift was answered (retrain queued, or newer data took over)."""
        await self._session.execute(delete(pending_drifts).where(pending_drifts.c.model == model))
