"""PostgreSQL: the prediction buffer, labels, evaluated windows and drift episodes."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, Row, delete, func, literal, select, update
from sqlalchemy.dialects.postgresql import insert

from driftline.monitoring.adapters.episodes import PostgresEpisodes
from driftline.monitoring.adapters.tables import (
    buffered_predictions as buffer,
)
from driftline.monitoring.adapters.tables import drift_windows, ground_truth
from driftline.monitoring.performance import PerformanceResult
from driftline.monitoring.records import BufferedRow, WindowRecord
from driftline.monitoring.windowing import EPOCH
from driftline_contracts.events.monitoring import PredictionRow
from driftline_contracts.values import ArtifactRef, Scalar


class PostgresWindows(PostgresEpisodes):
    """Count and time windows and episodes of every model, inside the caller's transaction."""

    async def append(
        self, model: str, version: int, rows: Sequence[PredictionRow],
        source: ArtifactRef | None = None,
    ) -> None:  # fmt: skip
        """Add predictions to the model's open window; with ``source`` (the object they were
        read from) their features stay there and are not copied."""
        if rows:
            found = [_buffered(model, version, r, source) for r in rows]
            await self.session.execute(insert(buffer), found)

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
        return [_row(r) for r in await self.session.execute(query)]

    async def pending_cells(self, model: str, duration: timedelta) -> list[tuple[datetime, int]]:
        """Pending predictions per time-window grid cell (event time), oldest first."""
        cell = func.date_bin(literal(duration), buffer.c.served_at, literal(EPOCH)).label("cell")
        query = (
            select(cell, func.count()).where(buffer.c.model == model, buffer.c.window_seq.is_(None))
            .group_by(cell).order_by(cell)
        )  # fmt: skip
        return [(r[0], int(r[1])) for r in await self.session.execute(query)]

    async def take_until(self, model: str, end: datetime) -> list[BufferedRow]:
        """Every pending prediction stamped before ``end``, by time, locked for this transaction."""
        query = (
            select(buffer)
            .where(buffer.c.model == model, buffer.c.window_seq.is_(None), buffer.c.served_at < end)
            .order_by(buffer.c.served_at, buffer.c.id).with_for_update()
        )  # fmt: skip
        return [_row(r) for r in await self.session.execute(query)]

    async def last_end(self, model: str) -> datetime | None:
        """End of the model's newest evaluated window (where the next time window starts)."""
        query = (
            select(drift_windows.c.end_at).where(drift_windows.c.model == model)
            .order_by(drift_windows.c.seq.desc()).limit(1)
        )  # fmt: skip
        return (await self.session.execute(query)).scalar_one_or_none()

    async def trim_pending(self, model: str, keep: int) -> int:
        """Drop the oldest pending predictions beyond the newest ``keep``; how many went."""
        oldest = (
            select(buffer.c.id).where(buffer.c.model == model, buffer.c.window_seq.is_(None))
            .order_by(buffer.c.id.desc()).offset(keep)
        )  # fmt: skip
        # A DML statement's result is a CursorResult, which SQLAlchemy types as Result.
        result = cast(
            CursorResult[Any],
            await self.session.execute(delete(buffer).where(buffer.c.id.in_(oldest))),
        )
        return int(result.rowcount)

    async def prune_evaluated(self, model: str, keep_windows: int) -> int:
        """Delete the predictions of evaluated windows older than the newest ``keep_windows``,
        and their labels; how many predictions went. Their window records stay."""
        oldest_kept = (
            select(drift_windows.c.seq).where(drift_windows.c.model == model)
            .order_by(drift_windows.c.seq.desc()).offset(max(keep_windows - 1, 0)).limit(1)
            .scalar_subquery()
        )  # fmt: skip
        gone = (
            delete(buffer)
            .where(buffer.c.model == model, buffer.c.window_seq < oldest_kept)
            .returning(buffer.c.request_id)
            .cte("gone")
        )
        labels = delete(ground_truth).where(
            ground_truth.c.model == model, ground_truth.c.request_id.in_(select(gone.c.request_id))
        )
        result = await self.session.execute(
            select(func.count()).select_from(gone).add_cte(labels.cte("labels_gone"))
        )
        return int(result.scalar_one())

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

    async def windows_holding(
        self, model: str, version: int, request_ids: Sequence[str]
    ) -> list[WindowRecord]:
        """Evaluated windows of ``version`` holding any of these requests, oldest first."""
        seqs = select(buffer.c.window_seq).where(
            buffer.c.model == model, buffer.c.request_id.in_(list(request_ids)),
            buffer.c.window_seq.is_not(None),
        )  # fmt: skip
        query = (
            select(drift_windows)
            .where(drift_windows.c.model == model, drift_windows.c.version == version,
                   drift_windows.c.seq.in_(seqs))
            .order_by(drift_windows.c.seq).with_for_update()
        )  # fmt: skip
        return [_window(r) for r in await self.session.execute(query)]

    async def window_predictions(self, model: str, seq: int) -> list[tuple[str, Scalar]]:
        """(request id, prediction) of every row of an evaluated window."""
        query = select(buffer.c.request_id, buffer.c.prediction).where(
            buffer.c.model == model, buffer.c.window_seq == seq
        )
        return [(r.request_id, r.prediction) for r in await self.session.execute(query)]

    async def set_performance(self, model: str, seq: int, result: PerformanceResult) -> None:
        """Replace a window's performance verdict (late labels re-judged it)."""
        await self.session.execute(
            update(drift_windows)
            .where(drift_windows.c.model == model, drift_windows.c.seq == seq)
            .values(performance=result.model_dump(mode="json"))
        )

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

    async def window(self, model: str, seq: int) -> WindowRecord | None:
        """One evaluated window of ``model`` by its sequence number."""
        query = select(drift_windows).where(
            drift_windows.c.model == model, drift_windows.c.seq == seq
        )
        row = (await self.session.execute(query)).first()
        return _window(row) if row is not None else None


def _buffered(
    model: str, version: int, row: PredictionRow, source: ArtifactRef | None
) -> dict[str, object]:
    return {
        "model": model, "version": version, "request_id": row.request_id,
        "served_at": row.time, "prediction": row.prediction,
        "features": row.features if source is None else None,
        "source": source.model_dump(mode="json") if source is not None else None,
        "flags": [f.model_dump() for f in row.flags] if row.flags else None,
    }  # fmt: skip


def _row(r: Any) -> BufferedRow:
    source = ArtifactRef.model_validate(r.source) if r.source is not None else None
    return BufferedRow(
        r.id, r.version, r.request_id, r.served_at, r.features, r.prediction, source, r.flags
    )


def _window(row: Row[Any]) -> WindowRecord:
    data = dict(row._mapping)
    data["start"], data["end"] = data.pop("start_at"), data.pop("end_at")
    data.pop("created_at", None)
    data["report"] = ArtifactRef.model_validate(data["report"])
    data["report_html"] = ArtifactRef.model_validate(data["report_html"])
    return WindowRecord(**data)
