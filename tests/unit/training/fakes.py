"""In-memory stand-ins for the worker's units of work, job repository and process pool."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from typing import Any

from driftline.training.adapters.champions import Champion
from driftline.training.champion_check import ChampionInput
from driftline.training.core import Job, JobStatus, LabelledRow, NewJob
from driftline.training.records import RunRecord
from driftline.training.runner import RunOutput, run_training
from driftline.training.submissions import score_submission
from driftline.training.windows import AcceptedVersion
from driftline_contracts.envelope import Envelope
from tests.unit.training.builders import policy


@dataclass
class FakeUnit:
    """A unit of work that records what it emits, with the cause it was opened with."""

    cause: Envelope | None
    session: None = None
    emitted: list[tuple[Any, Envelope | None]] = field(default_factory=list)
    correlations: list[str | None] = field(default_factory=list)

    async def emit(self, event: Any, *, correlation_id: str | None = None) -> None:
        self.emitted.append((event, self.cause))
        self.correlations.append(correlation_id)


@dataclass
class FakeUnits:
    """Opens FakeUnits; keeps the events of units that exited cleanly (committed)."""

    committed: list[tuple[Any, Envelope | None]] = field(default_factory=list)
    correlations: list[str | None] = field(default_factory=list)
    """The correlation id each committed event was emitted with (None: its cause's)."""

    @asynccontextmanager
    async def __call__(self, *, cause: Envelope | None = None) -> AsyncIterator[FakeUnit]:
        unit = FakeUnit(cause)
        yield unit
        self.committed.extend(unit.emitted)
        self.correlations.extend(unit.correlations)

    def events(self, kind: type) -> list[Any]:
        """Committed events of one type."""
        return [e for e, _ in self.committed if isinstance(e, kind)]


@dataclass
class FakeJobs:
    """Jobs and runs in dicts, with the claim and ownership rules of the PostgreSQL adapter."""

    jobs: dict[int, Job] = field(default_factory=dict)
    runs: list[RunRecord] = field(default_factory=list)
    expired: bool = False
    """Whether running jobs' leases count as expired (a crashed worker)."""
    claimed_by: dict[int, str] = field(default_factory=dict)
    labelled: list[tuple[int, LabelledRow]] = field(default_factory=list)
    """Labelled production rows: (label sequence number, features, label)."""
    versions: list[AcceptedVersion] = field(default_factory=list)
    """Accepted dataset versions, as training recorded them."""

    async def accepted_versions(self, dataset: str, up_to: int) -> list[AcceptedVersion]:
        return [v for v in self.versions if v.ref.name == dataset and (v.ref.version or 0) <= up_to]

    def add(self, new: NewJob, *, status: JobStatus = "queued", attempt: int = 0) -> Job:
        job = Job(
            **vars(new), id=len(self.jobs) + 1, status=status, attempt=attempt, claimed_at=None
        )
        self.jobs[job.id] = job
        return job

    async def claim(self, lease_s: float, worker: str = "") -> Job | None:
        for job in sorted(self.jobs.values(), key=lambda j: j.id):
            if job.status == "queued" or (job.status == "running" and self.expired):
                claimed = replace(job, status="running", attempt=job.attempt + 1)
                self.jobs[job.id] = claimed
                self.claimed_by[job.id] = worker
                return claimed
        return None

    async def requeue_abandoned(self, worker: str) -> list[str]:
        mine = [
            j
            for j in self.jobs.values()
            if j.status == "running" and self.claimed_by.get(j.id) == worker
        ]
        for job in mine:
            self.jobs[job.id] = replace(job, status="queued")
            self.claimed_by.pop(job.id)
        return [j.run_id for j in mine]

    def _owns(self, job: Job) -> bool:
        current = self.jobs[job.id]
        return current.status == "running" and current.attempt == job.attempt

    async def renew(self, job: Job) -> bool:
        return self._owns(job)

    async def release(self, job: Job) -> bool:
        if not self._owns(job):
            return False
        self.jobs[job.id] = replace(job, status="queued", attempt=job.attempt - 1)
        return True

    async def finish(self, job: Job, status: JobStatus) -> bool:
        if not self._owns(job):
            return False
        self.jobs[job.id] = replace(job, status=status)
        return True

    async def add_run(self, job: Job, record: RunRecord) -> None:
        self.runs.append(record)

    async def labelled_rows(self, model: str, until: int, limit: int) -> list[LabelledRow]:
        kept = sorted((r for r in self.labelled if r[0] <= until), key=lambda r: r[0])[-limit:]
        return [row for _, row in kept]


@dataclass
class FakeChampions:
    """The champion training follows, in memory (None: nothing promoted yet)."""

    champion: Champion | None = None

    async def promoted(self, champion: Champion) -> None:
        self.champion = champion

    async def get(self, model: str) -> Champion | None:
        return self.champion if self.champion and self.champion.model == model else None


@dataclass
class InlinePool:
    """Runs ``run_training`` in this process; ``during`` simulates what happens meanwhile."""

    during: Callable[[], None] = lambda: None

    async def train(
        self,
        data_path: str,
        data_format: str,
        spec: dict[str, Any],
        max_rows: int,
        timeout_s: float,
        labelled_path: str | None = None,
        champion: ChampionInput | None = None,
    ) -> RunOutput:
        self.during()
        return run_training(
            data_path, data_format, spec, max_rows, labelled_path, policy=policy(),
            champion=champion,
        )  # fmt: skip

    async def score(
        self,
        data_path: str,
        data_format: str,
        spec: dict[str, Any],
        max_rows: int,
        timeout_s: float,
        model_bytes: bytes,
        champion: ChampionInput | None = None,
    ) -> RunOutput:
        self.during()
        return score_submission(data_path, data_format, spec, max_rows, model_bytes, champion)
