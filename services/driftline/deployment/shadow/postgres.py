"""The shadow log in PostgreSQL: the challenger's answer to each mirrored request."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import and_, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from driftline.deployment.prediction_log.postgres import logged_row
from driftline.deployment.prediction_log.rows import LoggedRow
from driftline.deployment.tables import predictions, shadow_predictions

_S, _P = shadow_predictions.c, predictions.c


def _shadow_row(row: Any) -> LoggedRow:
    """A shadow answer in the log's shape: the champion's features and label, variant shadow."""
    return LoggedRow(
        id=row.s_id,
        request_id=row.request_id,
        model=row.model,
        version=row.s_version,
        variant="shadow",
        features=row.features,
        prediction=row.s_prediction,
        score=row.s_score,
        latency_ms=row.s_latency_ms,
        error=row.s_error,
        created_at=row.s_created_at,
        label=row.label,
        labelled=row.labelled_at is not None,
    )


def _joined() -> Any:
    return select(
        predictions,
        _S.id.label("s_id"),
        _S.version.label("s_version"),
        _S.prediction.label("s_prediction"),
        _S.score.label("s_score"),
        _S.latency_ms.label("s_latency_ms"),
        _S.error.label("s_error"),
        _S.created_at.label("s_created_at"),
    ).join(shadow_predictions, _S.request_id == _P.request_id)


class PostgresShadowLog:
    """Appends shadow answers, pairs them with the champion's, hands out unsent ones."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def append(self, rows: Sequence[Mapping[str, Any]]) -> None:
        """Record shadow answers; a request already mirrored keeps its first answer."""
        if rows:
            await self._session.execute(
                insert(shadow_predictions).on_conflict_do_nothing(index_elements=["request_id"]),
                list(rows),
            )

    async def count(self, canary_id: str, since: Any) -> int:
        """Shadow answers of the rollout since ``since``."""
        found = await self._session.scalar(
            select(func.count()).where(_S.canary_id == canary_id, _S.created_at >= since)
        )
        return int(found or 0)

    async def pairs(
        self, canary_id: str, since: Any, limit: int = 50_000
    ) -> list[tuple[LoggedRow, LoggedRow]]:
        """(champion row, shadow row) per mirrored request since ``since`` (newest ``limit``)."""
        rows = await self._session.execute(
            _joined()
            .where(_S.canary_id == canary_id, _S.created_at >= since)
            .order_by(_S.id.desc())
            .limit(limit)
        )
        return [(logged_row(r), _shadow_row(r)) for r in rows.all()]

    async def unsent_summary(self) -> tuple[int, Any]:
        """How many successful shadow answers wait to be sent, and the oldest one's time."""
        row = (
            await self._session.execute(
                select(func.count(), func.min(_S.created_at)).where(
                    _S.batch_id.is_(None), _S.error.is_(None)
                )
            )
        ).one()
        return int(row[0]), row[1]

    async def claim_unsent(self, limit: int) -> list[LoggedRow]:
        """Lock up to ``limit`` unsent successful shadow answers, oldest first."""
        rows = await self._session.execute(
            _joined()
            .where(and_(_S.batch_id.is_(None), _S.error.is_(None)))
            .order_by(_S.id)
            .limit(limit)
            .with_for_update(of=shadow_predictions, skip_locked=True)
        )
        return [_shadow_row(r) for r in rows.all()]

    async def mark_sent(self, ids: Sequence[int], batch_id: str) -> None:
        """Record that shadow answers ``ids`` travelled in ``batch_id``."""
        await self._session.execute(
            update(shadow_predictions).where(_S.id.in_(list(ids))).values(batch_id=batch_id)
        )
