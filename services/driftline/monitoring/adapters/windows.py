"""PostgreSQL: the prediction buffer, labels, evaluated windows and drift episodes."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from driftline.monitoring.adapters.tables import (
    buffered_predictions as buffer,
)
from driftline.monitoring.adapters.tables import (
    drift_episodes,
    drift_windows,
    ground_truth,
)
from driftline.monitoring.records import BufferedRow, Episode, WindowRecord
from driftline_contracts.events.monitoring import PredictionRow
from driftline_contracts.values import ArtifactRef, Scalar


class PostgresWindows:
    """Count windows and episodes of every model, inside the caller's transaction."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def append(self, model: str, version: int, rows: Sequence[PredictionRow]) -> None:
        """Add predictions to the model's open window."""
        if rows:
            await self.session.execute(insert(buffer), [_buffered(model, version, r) for r in rows])

    async def pending(self, model: str) -> int:
        """Predictions not yet in an evaluated window."""
        query = select(func.count()).where(buffer.c.model == model, buffer.c.window_seq.is_(None))
        return int((await self.session.execute(query)).scalar_one())

    async def take(self, model: str, size: int) -> list[BufferedRow]:
        """The oldest ``size`` pending predictions, locked for this transaction."""
        query = (
            select(buffer)
            .where(buffer.c.model == model, buffer.c.window_seq.is_(None))
            .order_by(buffer.c.id).limit(size).with_for_update()
        )  # fmt: skip
        return [
            BufferedRow(r.id, r.version, r.request_id, r.served_at, r.features, r.prediction)
            for r in await self.session.execute(query)
        ]

    async def drop_pending(self, model: str, keep_version: int) -> None:
        """Forget pending predictions served by other versions (a new champion took over)."""
        await self.session.execute(
            delete(buffer).where(
                buffer.c.model == model, buffer.c.window_seq.is_(None),
                buffer.c.version != keep_version,
            )
        )  # fmt: skip

    async def save_labels(self, model: str, labels: dict[str, Scalar], at: datetime) -> None:
        """Insert or replace true labels by request id."""
        rows = [
            {"model": model, "request_id": k, "label": v, "received_at": at}
            for k, v in labels.items()
        ]
        stmt = insert(ground_truth)
        await self.session.execute(
            stmt.on_conflict_do_update(
                index_elements=["model", "request_id"],
                set_={"label": stmt.excluded.label, "received_at": stmt.excluded.received_at},
            ),
            rows,
        )

    async def labels(self, model: str, request_ids: Sequence[str]) -> dict[str, Scalar]:
        """The known labels of these requests."""
        query = select(ground_truth.c.request_id, ground_truth.c.label).where(
            ground_truth.c.model == model, ground_truth.c.request_id.in_(list(request_ids))
        )
        return {r.request_id: r.label for r in await self.session.execute(query)}

    async def next_seq(self, model: str) -> int:
        """Number of the next window of ``model`` (from 1)."""
        query = select(func.coalesce(func.max(drift_windows.c.seq), 0)).where(
            drift_windows.c.model == model
        )
        return int((await self.session.execute(query)).scalar_one()) + 1

    async def save_window(self, record: WindowRecord, row_ids: Sequence[int]) -> None:
        """Store an evaluated window and close its rows."""
        values = {k: v for k, v in vars(record).items() if k not in ("start", "end")}
        values |= {"start_at": record.start, "end_at": record.end}
        values |= {
            "report": record.report.model_dump(),
            "report_html": record.report_html.model_dump(),
        }
        await self.session.execute(insert(drift_windows).values(**values))
        await self.session.execute(
            update(buffer).where(buffer.c.id.in_(list(row_ids))).values(window_seq=record.seq)
        )

    async def windows(self, model: str, limit: int = 100) -> list[WindowRecord]:
        """The newest evaluated windows, newest first."""
        query = (
            select(drift_windows).where(drift_windows.c.model == model)
            .order_by(drift_windows.c.seq.desc()).limit(limit)
        )  # fmt: skip
        return [_window(r) for r in await self.session.execute(query)]

    async def open_episode(self, model: str) -> Episode | None:
        """The model's open drift episode, if any (locked for this transaction)."""
        query = (
            select(drift_episodes)
            .where(drift_episodes.c.model == model, drift_episodes.c.resolved_at.is_(None))
            .with_for_update()
        )
        row = (await self.session.execute(query)).first()
        if row is None:
            return None
        return Episode(row.drift_id, row.version, row.detected_at, row.clean_streak)

    async def open(self, model: str, episode: Episode) -> None:
        """Start a drift episode."""
        await self.session.execute(
            insert(drift_episodes).values(
                drift_id=episode.drift_id, model=model, version=episode.version,
                detected_at=episode.detected_at, clean_streak=0,
            )
        )  # fmt: skip

    async def update(
        self, drift_id: str, clean_streak: int, *, resolution: str | None = None
    ) -> None:
        """Count clean windows of an open episode, or close it with a resolution."""
        values: dict[str, object] = {"clean_streak": clean_streak}
        if resolution is not None:
            values |= {"resolution": resolution, "resolved_at": func.now()}
        await self.session.execute(
            update(drift_episodes).where(drift_episodes.c.drift_id == drift_id).values(**values)
        )


def _buffered(model: str, version: int, row: PredictionRow) -> dict[str, object]:
    return {
        "model": model, "version": version, "request_id": row.request_id,
        "served_at": row.time, "features": row.features, "prediction": row.prediction,
    }  # fmt: skip


def _window(row: object) -> WindowRecord:
    data = dict(row._mapping)  # type: ignore[attr-defined]
    data["start"], data["end"] = data.pop("start_at"), data.pop("end_at")
    data.pop("created_at", None)
    data["report"] = ArtifactRef.model_validate(data["report"])
    data["report_html"] = ArtifactRef.model_validate(data["report_html"])
    return WindowRecord(**data)
