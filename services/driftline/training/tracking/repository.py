"""Tracking's experiments, runs, params, tags, metric points and artifacts in PostgreSQL."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from driftline.runtime.rows import typed_rows
from driftline.runtime.storage import StoredObject
from driftline.training.adapters.tables import dataset_versions
from driftline.training.tracking.core import InvalidValueError
from driftline.training.tracking.models import Experiment, MetricPoint, TrackedRun
from driftline.training.tracking.run_details import with_details
from driftline.training.tracking.tables import (
    artifacts,
    experiments,
    metrics,
    params,
    tags,
    tracked_runs,
)
from driftline_contracts.values import DatasetRef


def _experiment(row: Row) -> Experiment:
    return Experiment(
        experiment_id=str(row.experiment_id),
        name=row.name,
        artifact_location=row.artifact_location,
        tags=row.tags,
        created_by=row.created_by,
        created_at=row.created_at,
    )


class PostgresTrackingRepository:
    """Tracking records, read and written inside the caller's transaction."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def experiment(self, experiment_id: int) -> Experiment | None:
        """One experiment by id."""
        query = select(experiments).where(experiments.c.experiment_id == experiment_id)
        row = (await self._session.execute(query)).first()
        return _experiment(row) if row else None

    async def experiment_named(self, name: str) -> Experiment | None:
        """One experiment by name."""
        row = await self._session.execute(select(experiments).where(experiments.c.name == name))
        found = row.first()
        return _experiment(found) if found else None

    async def experiments(self, limit: int = 1000) -> list[Experiment]:
        """Experiments, oldest first."""
        query = select(experiments).order_by(experiments.c.experiment_id).limit(limit)
        return [_experiment(r) for r in await self._session.execute(query)]

    async def add_experiment(
        self, name: str, actor: str, tags: dict[str, str]
    ) -> Experiment | None:
        """A new experiment whose artifacts go to ``mlflow-artifacts:/ID``; None if the name
        is taken."""
        statement = (
            insert(experiments)
            .values(name=name, created_by=actor, tags=tags)
            .on_conflict_do_nothing(index_elements=[experiments.c.name])
            .returning(experiments.c.experiment_id)
        )
        new_id = (await self._session.execute(statement)).scalar()
        if new_id is None:
            return None
        await self._session.execute(
            update(experiments)
            .where(experiments.c.experiment_id == new_id)
            .values(artifact_location=f"mlflow-artifacts:/{new_id}")
        )
        return await self.experiment(new_id)

    async def dataset(self, name: str, version: int) -> DatasetRef | None:
        """The accepted dataset version training recorded, if any."""
        query = select(dataset_versions.c.ref).where(
            dataset_versions.c.dataset == name, dataset_versions.c.version == version
        )
        ref = (await self._session.execute(query)).scalar()
        return DatasetRef.model_validate(ref) if ref is not None else None

    async def exists(self, run_id: str) -> bool:
        """Whether a tracked run has that id."""
        query = select(tracked_runs.c.run_id).where(tracked_runs.c.run_id == run_id)
        return (await self._session.execute(query)).first() is not None

    async def add_run(self, values: dict[str, Any], run_tags: dict[str, str]) -> None:
        """Record a new run and its first tags."""
        await self._session.execute(insert(tracked_runs).values(**values))
        await self.set_tags(values["run_id"], run_tags)

    async def end_run(self, run_id: str, status: str, end_time: int | None) -> None:
        """Set the run's status (and end time, when it ended)."""
        await self._session.execute(
            update(tracked_runs)
            .where(tracked_runs.c.run_id == run_id)
            .values(status=status, end_time=end_time)
        )

    async def rename_run(self, run_id: str, name: str) -> None:
        """Give the run another name."""
        statement = update(tracked_runs).where(tracked_runs.c.run_id == run_id)
        await self._session.execute(statement.values(name=name))

    async def set_params(self, run_id: str, values: dict[str, str]) -> None:
        """Record params once; a param logged again with another value is refused."""
        if not values:
            return
        rows = [{"run_id": run_id, "key": k, "value": v} for k, v in values.items()]
        await self._session.execute(insert(params).values(rows).on_conflict_do_nothing())
        query = select(params.c.key, params.c.value).where(
            params.c.run_id == run_id, params.c.key.in_(list(values))
        )
        changed = [k for k, v in typed_rows(await self._session.execute(query)) if values[k] != v]
        if changed:
            raise InvalidValueError(
                f"params already logged with another value (a param is logged once): "
                f"{', '.join(sorted(changed))}"
            )

    async def set_tags(self, run_id: str, values: dict[str, str]) -> None:
        """Set tags, replacing earlier values."""
        if not values:
            return
        rows = [{"run_id": run_id, "key": k, "value": v} for k, v in values.items()]
        statement = insert(tags).values(rows)
        await self._session.execute(
            statement.on_conflict_do_update(
                index_elements=[tags.c.run_id, tags.c.key], set_={"value": statement.excluded.value}
            )
        )

    async def add_points(self, run_id: str, points: Sequence[MetricPoint]) -> None:
        """Append metric points."""
        if points:
            rows = [{"run_id": run_id, **p.model_dump()} for p in points]
            await self._session.execute(insert(metrics).values(rows))

    async def history(self, run_id: str, key: str) -> list[MetricPoint]:
        """Every point of one metric of a run, by step then time."""
        query = (
            select(metrics.c.key, metrics.c.value, metrics.c.step, metrics.c.timestamp)
            .where(metrics.c.run_id == run_id, metrics.c.key == key)
            .order_by(metrics.c.step, metrics.c.timestamp, metrics.c.id)
        )
        return [
            MetricPoint.model_validate(r, from_attributes=True)
            for r in await self._session.execute(query)
        ]

    async def add_artifact(self, run_id: str, path: str, stored: StoredObject) -> None:
        """Record (or replace) a logged file."""
        values = {"uri": stored.uri, "sha256": stored.sha256, "size_bytes": stored.size_bytes}
        statement = insert(artifacts).values(run_id=run_id, path=path, **values)
        await self._session.execute(
            statement.on_conflict_do_update(
                index_elements=[artifacts.c.run_id, artifacts.c.path], set_=values
            )
        )

    async def run(self, run_id: str) -> TrackedRun | None:
        """One run with its params, tags, metric curves in brief and artifacts."""
        found = await self.runs(run_ids=[run_id])
        return found[0] if found else None

    async def runs(
        self,
        experiment_ids: Sequence[int] | None = None,
        run_ids: Sequence[str] | None = None,
        limit: int = 1000,
    ) -> list[TrackedRun]:
        """Runs, newest first, of some experiments or with some ids."""
        query = (
            select(tracked_runs, experiments.c.name.label("experiment"))
            .join(experiments, experiments.c.experiment_id == tracked_runs.c.experiment_id)
            .order_by(tracked_runs.c.start_time.desc(), tracked_runs.c.run_id)
            .limit(limit)
        )
        if experiment_ids is not None:
            query = query.where(tracked_runs.c.experiment_id.in_(list(experiment_ids)))
        if run_ids is not None:
            query = query.where(tracked_runs.c.run_id.in_(list(run_ids)))
        rows = list(await self._session.execute(query))
        return await with_details(self._session, rows)
