"""The prediction log in PostgreSQL: every served row, its label, and which batch sent it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic_core import to_json
from sqlalchemy import and_, bindparam, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from driftline.deployment.adapters.tables import predictions


@dataclass(frozen=True)
class LoggedRow:
    """One logged prediction as the batcher and the judge read it."""

    id: int
    request_id: str
    model: str
    version: int
    variant: str
    features: dict[str, Any]
    prediction: Any
    score: float | None
    latency_ms: float
    error: str | None
    created_at: datetime
    label: Any = None
    labelled: bool = False


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
    )


class PostgresPredictionLog:
    """Appends served predictions, attaches labels, hands out unsent rows in batches."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def append(self, rows: Sequence[Mapping[str, Any]]) -> None:
        """Record served rows (their ``batch_id`` stays NULL until a batch sends them).

        One statement whatever the row count: each column travels as one array parameter
        and ``unnest`` turns them back into rows (an executemany costs a round of work per row).
        """
        if rows:
            await self._session.execute(text(append_sql(named=True)), append_columns(rows))

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
        known = await self._session.scalars(
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

    async def unsent_summary(self) -> tuple[int, datetime | None]:
        """How many successful predictions wait to be sent, and when the oldest was served."""
        row = (
            await self._session.execute(
                select(func.count(), func.min(predictions.c.created_at)).where(_unsent())
            )
        ).one()
        return int(row[0]), row[1]

    async def claim_unsent(self, limit: int) -> list[LoggedRow]:
        """Lock up to ``limit`` unsent rows, oldest first (rows other replicas hold are skipped)."""
        rows = await self._session.execute(
            select(predictions)
            .where(_unsent())
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
        """Both variants' rows of the rollout since ``since`` (newest ``limit``)."""
        rows = await self._session.execute(
            select(predictions)
            .where(and_(predictions.c.canary_id == canary_id, predictions.c.created_at >= since))
            .order_by(predictions.c.id.desc())
            .limit(limit)
        )
        return [logged_row(r) for r in rows.all()]


_APPENDED = {
    "request_id": "text", "model": "text", "version": "integer", "variant": "text",
    "canary_id": "text", "features": "jsonb", "prediction": "jsonb", "score": "float8",
    "latency_ms": "float8", "error": "text", "created_at": "timestamptz",
}  # fmt: skip


def append_sql(*, named: bool) -> str:
    """The INSERT … SELECT FROM unnest(one array per column) statement of ``append``.

    ``named``: ``:column`` parameters (SQLAlchemy ``text``), else ``$1 …`` (asyncpg).
    """
    params = [f":{name}" if named else f"${i}" for i, name in enumerate(_APPENDED, start=1)]
    arrays = ", ".join(
        f"CAST({param} AS {'text' if kind == 'jsonb' else kind}[])"
        for param, kind in zip(params, _APPENDED.values(), strict=True)
    )
    selected = ", ".join(f"{n}::jsonb" if k == "jsonb" else n for n, k in _APPENDED.items())
    columns = ", ".join(_APPENDED)
    return (
        f"INSERT INTO {predictions.name} ({columns}) SELECT {selected} "
        f"FROM unnest({arrays}) AS appended({columns})"
    )


def append_columns(rows: Sequence[Mapping[str, Any]]) -> dict[str, list[Any]]:
    """Served rows as one list per column (JSON columns as JSON text), in ``append_sql`` order."""
    columns = {name: [row.get(name) for row in rows] for name in _APPENDED}
    for name, kind in _APPENDED.items():
        if kind == "jsonb":
            columns[name] = [to_json(value).decode() for value in columns[name]]
    return columns


def _unsent() -> Any:
    return and_(predictions.c.batch_id.is_(None), predictions.c.error.is_(None))
