"""The prediction log in PostgreSQL: every served row, its label, and which batch sent it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ScalarResult, and_, bindparam, delete, func, literal, select, text, update
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession

from driftline.deployment.prediction_log.insert import append_document, append_sql, features_json
from driftline.deployment.prediction_log.rows import LoggedRow
from driftline.deployment.serving.served_rows import ServedRows
from driftline.deployment.tables import open_prediction_batches, predictions


def logged_row(row: Any) -> LoggedRow:
    """A ``predictions`` table row as a :class:`LoggedRow`."""
    return LoggedRow(
        id=row.id,
        request_id=row.request_id,
        model=row.model,
        version=row.version,
        variant=row.variant,
        features=row.features,
        prediction=row.prediction,
        score=row.score,
        latency_ms=row.latency_ms,
        error=row.error,
        created_at=row.created_at,
        label=row.label,
        labelled=row.labelled_at is not None,
        flags=row._mapping.get("flags"),  # not selected by every query (the shadow pairs)
    )


class PostgresPredictionLog:
    """Appends served predictions, attaches labels, hands out unsent rows in batches."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def append(self, served: Sequence[ServedRows]) -> int:
        """Record served rows (their ``batch_id`` stays NULL until a batch sends them); how
        many were new. One statement whatever the row count (see ``append_sql``)."""
        if not any(served):
            return 0
        document = append_document(served, [features_json(s) for s in served])
        result = await self._session.execute(text(append_sql(named=True)), {"document": document})
        return int(getattr(result, "rowcount", 0) or 0)

    async def find(self, request_ids: Sequence[str]) -> dict[str, LoggedRow]:
        """Logged rows by request id, for those of ``request_ids`` already served."""
        if not request_ids:
            return {}
        rows = await self._session.execute(
            select(predictions).where(predictions.c.request_id.in_(list(request_ids)))
        )
        return {r.request_id: logged_row(r) for r in rows.all()}

    async def unknown_request_ids(self, model: str, request_ids: Sequence[str]) -> list[str]:
        """The ids among ``request_ids`` that ``model`` never served."""
        known: ScalarResult[str] = await self._session.scalars(
            select(predictions.c.request_id).where(
                predictions.c.model == model, predictions.c.request_id.in_(list(request_ids))
            )
        )
        found = set(known)
        return [r for r in request_ids if r not in found]

    async def attach_labels(self, labels: Mapping[str, Any], now: datetime) -> None:
        """Store the true label of each request id."""
        await self._session.execute(
            update(predictions)
            .where(predictions.c.request_id == bindparam("rid"))
            .values(label=bindparam("new_label"), labelled_at=now),
            [{"rid": rid, "new_label": label} for rid, label in labels.items()],
        )

    async def unsent_summary(self, before: datetime) -> tuple[int, datetime | None]:
        """How many successful predictions served before ``before`` wait to be sent, and when
        the oldest was served."""
        row = (
            await self._session.execute(
                select(func.count(), func.min(predictions.c.created_at)).where(
                    _unsent(), predictions.c.created_at < before
                )
            )
        ).one()
        return int(row[0]), row[1]

    async def claim_unsent(self, limit: int, before: datetime) -> list[LoggedRow]:
        """Lock up to ``limit`` unsent rows served before ``before``, oldest first (rows other
        replicas hold are skipped)."""
        rows = await self._session.execute(
            select(predictions)
            .where(_unsent(), predictions.c.created_at < before)
            .order_by(predictions.c.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return [logged_row(r) for r in rows.all()]

    async def mark_sent(self, ids: Sequence[int], batch_id: str) -> None:
        """Record that ``ids`` travelled in ``batch_id``."""
        await self._session.execute(
            update(predictions).where(predictions.c.id.in_(list(ids))).values(batch_id=batch_id)
        )

    async def close_batch(self, batch_id: str) -> bool:
        """Unregister an open batch (its event is emitted in this transaction); False if it
        was not open (the recovery pass sent it, or holds it)."""
        closed = await self._session.execute(
            delete(open_prediction_batches)
            .where(open_prediction_batches.c.batch_id == batch_id)
            .returning(open_prediction_batches.c.batch_id)
        )
        return closed.first() is not None

    async def stale_batches(self, before: datetime, limit: int) -> list[tuple[str, str, int]]:
        """Lock up to ``limit`` batches opened before ``before`` and still registered (their
        process died or failed to send them): ``(batch_id, model, version)``, oldest first."""
        found = await self._session.execute(
            select(
                open_prediction_batches.c.batch_id,
                open_prediction_batches.c.model,
                open_prediction_batches.c.version,
            )
            .where(open_prediction_batches.c.opened_at < before)
            .order_by(open_prediction_batches.c.opened_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return [(r.batch_id, r.model, r.version) for r in found.all()]

    async def batch_rows(self, batch_id: str) -> list[LoggedRow]:
        """The successful rows logged under ``batch_id``, in the order they were written."""
        rows = await self._session.execute(
            select(predictions)
            .where(predictions.c.batch_id == batch_id, predictions.c.error.is_(None))
            .order_by(predictions.c.id)
        )
        return [logged_row(r) for r in rows.all()]

    async def canary_requests(self, canary_id: str, since: datetime) -> int:
        """Canary-served rows of the rollout since ``since``."""
        return int(
            await self._session.scalar(
                select(func.count()).where(
                    predictions.c.canary_id == canary_id,
                    predictions.c.variant == "canary",
                    predictions.c.created_at >= since,
                )
            )
            or 0
        )

    async def window(self, canary_id: str, since: datetime, limit: int = 50_000) -> list[LoggedRow]:
        """Both variants' rows of the rollout since ``since`` (newest ``limit``), without their
        features (the judge compares answers; decoding 50,000 feature maps cost seconds)."""
        unread = literal({}, JSONB).label("features")
        rows = await self._session.execute(
            select(*(c for c in predictions.c if c.name != "features"), unread)
            .where(and_(predictions.c.canary_id == canary_id, predictions.c.created_at >= since))
            .order_by(predictions.c.id.desc())
            .limit(limit)
        )
        return [logged_row(r) for r in rows.all()]


def _unsent() -> Any:
    return and_(predictions.c.batch_id.is_(None), predictions.c.error.is_(None))
