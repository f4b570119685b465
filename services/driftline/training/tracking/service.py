"""Tracking's use cases: one transaction each, over the repository and the artifact store."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any

from driftline.runtime.storage import ArtifactStore
from driftline.training.adapters.postgres import PostgresTrainingRepository
from driftline.training.tracking import core
from driftline.training.tracking.core import AlreadyExistsError, InvalidValueError, NotFoundError
from driftline.training.tracking.models import (
    ArtifactEntry,
    ComparedRuns,
    EndStatus,
    Experiment,
    MetricPoint,
    NewRun,
    RunLog,
    TrackedRun,
)
from driftline.training.tracking.repository import PostgresTrackingRepository

Units = Callable[[], AbstractAsyncContextManager[Any]]


def now_ms() -> int:
    """The current time in Unix milliseconds."""
    return int(time.time() * 1000)


class Tracking:
    """Experiments and runs logged from outside; every method is one transaction."""

    def __init__(self, units: Units, store: ArtifactStore) -> None:
        self._units = units
        self._store = store

    async def experiment(
        self, *, name: str | None = None, experiment_id: str | None = None
    ) -> Experiment:
        """One experiment by name or id; ``NotFoundError`` when there is none."""
        async with self._units() as uow:
            repo = PostgresTrackingRepository(uow.session)
            if name is not None:
                found = await repo.experiment_named(name)
            else:
                found = await repo.experiment(_experiment_number(experiment_id))
        if found is None:
            raise NotFoundError(f"experiment {name or experiment_id!r} not found")
        return found

    async def experiments(self) -> list[Experiment]:
        """Every experiment."""
        async with self._units() as uow:
            return await PostgresTrackingRepository(uow.session).experiments()

    async def create_experiment(
        self, name: str, actor: str, tags: dict[str, str] | None = None
    ) -> Experiment:
        """A new experiment; ``AlreadyExistsError`` when the name is taken."""
        _check_name(name)
        async with self._units() as uow:
            made = await PostgresTrackingRepository(uow.session).add_experiment(
                name, actor, core.check_tags(tags or {})
            )
        if made is None:
            raise AlreadyExistsError(f"experiment {name!r} already exists")
        return made

    async def experiment_for(self, name: str, actor: str) -> Experiment:
        """The experiment named ``name``, created when missing."""
        try:
            return await self.experiment(name=name)
        except NotFoundError:
            try:
                return await self.create_experiment(name, actor)
            except AlreadyExistsError:  # created meanwhile by another caller
                return await self.experiment(name=name)

    async def start_run(
        self, experiment_id: str, actor: str, new: NewRun, start_time: int | None = None
    ) -> TrackedRun:
        """A new RUNNING run in the experiment (nested under its parent, on a dataset version)."""
        run_id = uuid.uuid4().hex
        run_tags = core.check_tags(dict(new.tags))
        parent = new.parent_run_id or run_tags.get(core.PARENT_TAG)
        async with self._units() as uow:
            repo = PostgresTrackingRepository(uow.session)
            number = _experiment_number(experiment_id)
            if await repo.experiment(number) is None:
                raise NotFoundError(f"experiment {experiment_id!r} not found")
            dataset = await _dataset(repo, new.dataset)
            if parent is not None and not await repo.exists(core.check_run_id(parent)):
                raise NotFoundError(f"parent run {parent!r} not found")
            if parent is not None:
                run_tags[core.PARENT_TAG] = parent
            values = {
                "run_id": run_id, "experiment_id": number, "status": "RUNNING", "actor": actor,
                "name": new.name or f"run-{run_id[:8]}", "parent_run_id": parent,
                "dataset": dataset, "start_time": start_time or now_ms(),
            }  # fmt: skip
            await repo.add_run(values, run_tags)
            return await self._reread(repo, run_id)

    async def run(self, run_id: str) -> TrackedRun:
        """One run; ``NotFoundError`` when unknown."""
        async with self._units() as uow:
            return await self._reread(PostgresTrackingRepository(uow.session), run_id)

    async def runs(
        self, experiment_ids: Sequence[str] | None = None, limit: int = 1000
    ) -> list[TrackedRun]:
        """Runs, newest first, of some experiments (all when None)."""
        numbers = (
            None if experiment_ids is None else [_experiment_number(e) for e in experiment_ids]
        )
        async with self._units() as uow:
            return await PostgresTrackingRepository(uow.session).runs(numbers, limit=limit)

    async def log(self, run_id: str, batch: RunLog) -> None:
        """Params (once each), metric points and tags, all or nothing."""
        param_values = {
            core.check_key(k, "param"): core.param_text(v) for k, v in batch.params.items()
        }
        points = core.check_points(batch.metrics, now_ms())
        run_tags = core.check_tags(batch.tags)
        async with self._units() as uow:
            repo = PostgresTrackingRepository(uow.session)
            await self._existing(repo, run_id)
            await repo.set_params(run_id, param_values)
            await repo.add_points(run_id, points)
            await repo.set_tags(run_id, run_tags)

    async def update_run(
        self, run_id: str, status: EndStatus | str | None = None,
        end_time: int | None = None, name: str | None = None,
    ) -> TrackedRun:  # fmt: skip
        """Change status (ending it sets the end time) and/or name."""
        async with self._units() as uow:
            repo = PostgresTrackingRepository(uow.session)
            await self._existing(repo, run_id)
            if status is not None:
                core.check_status(status)
                ended = None if status in ("RUNNING", "SCHEDULED") else end_time or now_ms()
                await repo.end_run(run_id, status, ended)
            if name:
                await repo.rename_run(run_id, name[:256])
            return await self._reread(repo, run_id)

    async def history(self, run_id: str, key: str) -> list[MetricPoint]:
        """Every point of a metric, by step."""
        async with self._units() as uow:
            repo = PostgresTrackingRepository(uow.session)
            await self._existing(repo, run_id)
            return await repo.history(run_id, key)

    async def put_artifact(self, run_id: str, path: str, data: bytes) -> ArtifactEntry:
        """Store a file under the run's artifacts and record it."""
        run = await self.run(run_id)
        key = core.artifact_key(run.experiment_id, run.run_id, path)
        stored = await self._store.put_bytes(key, data)
        async with self._units() as uow:
            await PostgresTrackingRepository(uow.session).add_artifact(run_id, path, stored)
        return ArtifactEntry(
            path=path, uri=stored.uri, sha256=stored.sha256, size_bytes=stored.size_bytes
        )

    async def get_artifact(self, run_id: str, path: str) -> bytes:
        """The bytes of a logged file, checked against the recorded digest."""
        run = await self.run(run_id)
        entry = next((a for a in run.artifacts if a.path == core.artifact_path(path)), None)
        if entry is None:
            raise NotFoundError(f"run {run_id} has no artifact {path!r}")
        return await self._store.get_bytes(entry.uri, sha256=entry.sha256)

    async def compare(self, ids: Sequence[str]) -> ComparedRuns:
        """Tracked and training runs side by side; ``NotFoundError`` names unknown ids."""
        async with self._units() as uow:
            tracked = {
                r.run_id: r
                for r in await PostgresTrackingRepository(uow.session).runs(run_ids=list(ids))
            }
            training = PostgresTrainingRepository(uow.session)
            found = [tracked.get(i) or await training.run(i) for i in ids]
        missing = [i for i, r in zip(ids, found, strict=True) if r is None]
        if missing:
            raise NotFoundError(f"unknown runs: {', '.join(missing)}")
        return core.compare_runs(ids, found)

    async def _existing(self, repo: PostgresTrackingRepository, run_id: str) -> None:
        if not await repo.exists(core.check_run_id(run_id)):
            raise NotFoundError(f"run {run_id!r} not found")

    async def _reread(self, repo: PostgresTrackingRepository, run_id: str) -> TrackedRun:
        found = await repo.run(core.check_run_id(run_id))
        if found is None:
            raise NotFoundError(f"run {run_id!r} not found")
        return found


def _experiment_number(experiment_id: str | None) -> int:
    if experiment_id is None or not experiment_id.isdigit() or len(experiment_id) > 18:
        raise NotFoundError(f"experiment {experiment_id!r} not found")
    return int(experiment_id)


def _check_name(name: str) -> None:
    if not name.strip() or len(name) > 256 or any(ord(c) < 32 for c in name):
        raise InvalidValueError("an experiment name has 1 to 256 printable characters")


async def _dataset(repo: PostgresTrackingRepository, text: str | None) -> dict[str, Any] | None:
    if text is None:
        return None
    name, version = core.parse_dataset(text)
    if await repo.dataset(name, version) is None:
        raise NotFoundError(f"dataset version {text} is not an accepted version")
    return {"name": name, "version": version}
