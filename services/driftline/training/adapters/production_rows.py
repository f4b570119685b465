"""Labelled production data in training's schema: served requests' features and their labels."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from driftline.training.adapters.tables import production_labels, production_predictions
from driftline.training.core import Labelled, LabelledRow
from driftline_contracts.values import ArtifactRef

CHUNK = 1000
"""Rows per INSERT: PostgreSQL takes at most 32,767 bind parameters in one statement."""


def _chunks(values: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    return [values[i : i + CHUNK] for i in range(0, len(values), CHUNK)]


class PostgresProductionRows:
    """Predictions and labels kept to join for drift retrains, in the caller's transaction."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def save_predictions(
        self, model: str, rows: list[dict[str, Any]], source: ArtifactRef | None = None
    ) -> None:
        """Keep served predictions (``request_id``, ``time``, ``features``) once; with
        ``source``, the prediction log object holding them, by reference (features NULL)."""
        kept = {"source": source.model_dump(mode="json")} if source is not None else {}
        for chunk in _chunks([{"model": model, "features": None, **r, **kept} for r in rows]):
            statement = insert(production_predictions).values(chunk)
            await self._session.execute(statement.on_conflict_do_nothing())

    async def save_labels(self, model: str, labels: dict[str, Any], received_at: Any) -> None:
        """Keep true labels by request id; the first label of a request wins."""
        values = [
            {"model": model, "request_id": request_id, "label": label, "received_at": received_at}
            for request_id, label in labels.items()
        ]
        for chunk in _chunks(values):
            statement = insert(production_labels).values(chunk)
            await self._session.execute(statement.on_conflict_do_nothing())

    def _labelled(self, model: str) -> Any:
        joined = production_labels.join(
            production_predictions,
            (production_predictions.c.model == production_labels.c.model)
            & (production_predictions.c.request_id == production_labels.c.request_id),
        )
        return joined, production_labels.c.model == model

    async def labelled(self, model: str) -> Labelled:
        """How many predictions of ``model`` have a label, and the newest label's number."""
        joined, of_model = self._labelled(model)
        row = (
            await self._session.execute(
                select(func.count(), func.max(production_labels.c.seq))
                .select_from(joined)
                .where(of_model)
            )
        ).first()
        return Labelled(rows=int(row[0]), until=int(row[1] or 0)) if row else Labelled()

    async def labelled_rows(self, model: str, until: int, limit: int) -> list[LabelledRow]:
        """The newest ``limit`` labelled predictions up to ``until``, oldest first (a fixed
        order, so the same cut-off gives the same frame); features None when kept by reference."""
        joined, of_model = self._labelled(model)
        newest = (
            select(
                production_labels.c.seq,
                production_labels.c.request_id,
                production_predictions.c.features,
                production_predictions.c.source,
                production_labels.c.label,
            )
            .select_from(joined)
            .where(of_model, production_labels.c.seq <= until)
            .order_by(production_labels.c.seq.desc())
            .limit(limit)
            .subquery()
        )
        rows = await self._session.execute(select(newest).order_by(newest.c.seq))
        return [_labelled_row(row) for row in rows]

    async def forget_production_rows(self, before: Any) -> None:
        """Drop predictions served and labels received before ``before`` (retention)."""
        await self._session.execute(
            delete(production_predictions).where(production_predictions.c.time < before)
        )
        await self._session.execute(
            delete(production_labels).where(production_labels.c.received_at < before)
        )


def _labelled_row(row: Any) -> LabelledRow:
    source = ArtifactRef.model_validate(row.source) if row.source is not None else None
    return LabelledRow(row.request_id, row.label, row.features, source)
