"""A page of tracked runs completed with their params, tags, artifacts and metric curves in
brief (summarised in PostgreSQL: one row per run and metric, however long the curve)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import Row, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from driftline.runtime.rows import typed_rows
from driftline.training.tracking.models import ArtifactEntry, MetricSummary, TrackedRun
from driftline.training.tracking.tables import artifacts, metrics, params, tags


def curves_in_brief(ids: list[str]) -> Any:
    """Per run and metric: the value at the highest step (the latest logged on a tie), the
    extremes and the number of points."""
    by_curve = [metrics.c.run_id, metrics.c.key]
    latest = [metrics.c.step.desc(), metrics.c.timestamp.desc(), metrics.c.id.desc()]
    ranked = (
        select(
            metrics.c.run_id,
            metrics.c.key,
            metrics.c.value,
            metrics.c.step,
            metrics.c.timestamp,
            func.min(metrics.c.value).over(partition_by=by_curve).label("low"),
            func.max(metrics.c.value).over(partition_by=by_curve).label("high"),
            func.count().over(partition_by=by_curve).label("points"),
            func.row_number().over(partition_by=by_curve, order_by=latest).label("rank"),
        )
        .where(metrics.c.run_id.in_(ids))
        .subquery()
    )
    return select(ranked).where(ranked.c.rank == 1)


async def with_details(session: AsyncSession, rows: list[Row]) -> list[TrackedRun]:
    """``rows`` of ``tracking_runs`` (joined with the experiment name) as full runs."""
    ids = [r.run_id for r in rows]
    if not ids:
        return []
    pairs: dict[str, dict[str, dict[str, str]]] = {"params": defaultdict(dict),
                                                   "tags": defaultdict(dict)}  # fmt: skip
    for name, table in (("params", params), ("tags", tags)):
        query = select(table.c.run_id, table.c.key, table.c.value).where(table.c.run_id.in_(ids))
        for run_id, key, value in typed_rows(await session.execute(query)):
            pairs[name][run_id][key] = value
    curves: dict[str, dict[str, MetricSummary]] = defaultdict(dict)
    for row in await session.execute(curves_in_brief(ids)):
        curves[row.run_id][row.key] = MetricSummary(
            last=row.value,
            min=row.low,
            max=row.high,
            points=row.points,
            last_step=row.step,
            last_timestamp=row.timestamp,
        )
    files: dict[str, list[ArtifactEntry]] = defaultdict(list)
    query = select(artifacts).where(artifacts.c.run_id.in_(ids)).order_by(artifacts.c.path)
    for row in await session.execute(query):
        files[row.run_id].append(ArtifactEntry.model_validate(row, from_attributes=True))
    return [
        _run(
            r, pairs["params"][r.run_id], pairs["tags"][r.run_id], curves[r.run_id], files[r.run_id]
        )
        for r in rows
    ]


def _run(
    row: Row, run_params: dict[str, str], run_tags: dict[str, str],
    curves: dict[str, MetricSummary], files: list[ArtifactEntry],
) -> TrackedRun:  # fmt: skip
    dataset = row.dataset
    return TrackedRun(
        run_id=row.run_id,
        experiment_id=str(row.experiment_id),
        experiment=row.experiment,
        name=row.name,
        status=row.status,
        actor=row.actor,
        parent_run_id=row.parent_run_id,
        dataset=f"{dataset['name']}@{dataset['version']}" if dataset else None,
        start_time=row.start_time,
        end_time=row.end_time,
        params=run_params,
        tags=run_tags,
        metrics=curves,
        artifacts=files,
    )
