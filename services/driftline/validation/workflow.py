"""Validating one arrival: load, decide, store the profile and report, remember the outcome."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Protocol

import pandas as pd

from driftline.runtime.storage import ArtifactStore
from driftline.stats.expectations import Expectations
from driftline.stats.profile import DatasetProfile, profile_frame
from driftline.validation.adapters.artifacts import OutcomeArtifacts, load_profile, store_artifacts
from driftline.validation.adapters.canonical import store_canonical
from driftline.validation.adapters.loader import load_dataset
from driftline.validation.core import (
    LoadOutcome,
    Verdict,
    decide,
    reject_unloaded,
    specs_fingerprint,
)
from driftline.validation.deps import ValidationDeps as ValidationDeps  # its home before
from driftline.validation.outcomes import rejected_event, validated_event
from driftline.validation.records import AcceptedVersion, Rejection
from driftline.validation.specs import SpecRecord
from driftline_contracts.events.data import CanonicalCopy, DataRejected, DataValidated
from driftline_contracts.values import DatasetRef


class ValidationRepository(Protocol):
    """Where validation keeps specs and outcomes (PostgreSQL in production)."""

    async def specs_for(self, dataset: str) -> list[SpecRecord]: ...
    async def inferred(self, dataset: str) -> Expectations | None: ...
    async def save_inferred(
        self, dataset: str, expectations: Expectations, version: int
    ) -> None: ...
    async def accepted(self, dataset: str, sha256: str) -> AcceptedVersion | None: ...
    async def latest_accepted(self, dataset: str) -> AcceptedVersion | None: ...
    async def add_accepted(self, version: AcceptedVersion) -> None: ...
    async def rejected(self, dataset: str, sha256: str, fingerprint: str) -> bool: ...
    async def add_rejection(self, rejection: Rejection) -> None: ...


@dataclass(frozen=True)
class Judged:
    """A verdict with what it was based on."""

    verdict: Verdict
    profile: DatasetProfile | None
    baseline: AcceptedVersion | None
    fingerprint: str
    load: LoadOutcome | None = None
    """The frame the verdict is on, written as the canonical copy if it is accepted."""


Outcome = DataValidated | DataRejected


async def validate_arrival(
    dataset: DatasetRef, repo: ValidationRepository, deps: ValidationDeps, *, event_id: str
) -> Outcome | None:
    """Accept or reject ``dataset``; None when these bytes already have an outcome."""
    specs = await repo.specs_for(dataset.name)
    inferred = await repo.inferred(dataset.name)
    fingerprint = specs_fingerprint(specs, inferred)
    if await repo.accepted(dataset.name, dataset.sha256) is not None:
        return None
    if await repo.rejected(dataset.name, dataset.sha256, fingerprint):
        return None
    baseline = await repo.latest_accepted(dataset.name)
    load = await load_dataset(deps.store, dataset, deps.limits, workdir=deps.workdir)
    verdict, profile = await judge(dataset, specs, inferred, baseline, deps, load=load)
    judged = Judged(verdict, profile, baseline, fingerprint, load)
    return await record(repo, deps.store, dataset, judged, event_id=event_id, workdir=deps.workdir)


async def judge(
    dataset: DatasetRef,
    specs: list[SpecRecord],
    inferred: Expectations | None,
    baseline: AcceptedVersion | None,
    deps: ValidationDeps,
    *,
    load: LoadOutcome | None = None,
) -> tuple[Verdict, DatasetProfile | None]:
    """Load the object (unless given) and decide; statistics run off the event loop."""
    if load is None:
        load = await load_dataset(deps.store, dataset, deps.limits, workdir=deps.workdir)
    if load.frame is None:
        return reject_unloaded(load, specs), None
    previous, problem = (None, None)
    if baseline is not None:
        previous, problem = await load_profile(deps.store, baseline.profile)
    top_k = deps.settings.max_category_distinct
    verdict, profile = await asyncio.to_thread(
        _decide_and_profile, load.frame, dataset.sha256, specs, inferred, previous, top_k
    )
    if problem is not None:
        verdict = replace(verdict, warnings=(*verdict.warnings, problem))
    return verdict, profile


def _decide_and_profile(
    frame: pd.DataFrame,
    sha256: str,
    specs: list[SpecRecord],
    inferred: Expectations | None,
    previous: DatasetProfile | None,
    top_k: int,
) -> tuple[Verdict, DatasetProfile]:
    return decide(frame, specs, inferred, previous), profile_frame(
        frame, sha256=sha256, top_k=top_k
    )


async def record(
    repo: ValidationRepository,
    store: ArtifactStore,
    dataset: DatasetRef,
    judged: Judged,
    *,
    event_id: str,
    workdir: Path | None = None,
) -> Outcome:
    """Store the artifacts, remember the outcome and return the event it becomes."""
    verdict, baseline = judged.verdict, judged.baseline
    base = baseline.version if baseline is not None else None
    version = (base or 0) + 1 if verdict.accepted else None
    canonical = None
    if version is not None:
        canonical, verdict = await _canonical(store, dataset, judged, workdir)
    stored = await store_artifacts(
        store, dataset, verdict, judged.profile, version=version, baseline_version=base
    )
    if version is not None and stored.profile is not None:
        await _remember_accepted(repo, dataset, judged, stored, version, event_id)
        return validated_event(
            dataset,
            verdict,
            version=version,
            profile=stored.profile,
            baseline_version=base,
            report=stored.report_html,
            canonical=canonical,
        )
    if verdict.about_bytes:
        rejection = Rejection(
            dataset.name, dataset.sha256, judged.fingerprint, verdict.reasons,
            stored.report.uri, event_id,
        )  # fmt: skip
        await repo.add_rejection(rejection)
    compared = base if judged.profile is not None else None
    return rejected_event(
        dataset,
        verdict,
        profile=stored.profile,
        baseline_version=compared,
        report=stored.report_html,
    )


async def _canonical(
    store: ArtifactStore, dataset: DatasetRef, judged: Judged, workdir: Path | None
) -> tuple[CanonicalCopy | None, Verdict]:
    """The canonical copy of an accepted frame; the verdict gains a warning if none is written."""
    load, verdict = judged.load, judged.verdict
    if load is None or load.frame is None or load.dialect is None:
        return None, verdict
    copy, problem = await store_canonical(store, dataset, load.frame, load.dialect, workdir=workdir)
    if problem is not None:
        verdict = replace(verdict, warnings=(*verdict.warnings, problem))
    return copy, verdict


async def _remember_accepted(
    repo: ValidationRepository,
    dataset: DatasetRef,
    judged: Judged,
    stored: OutcomeArtifacts,
    version: int,
    event_id: str,
) -> None:
    assert stored.profile is not None
    await repo.add_accepted(
        AcceptedVersion(
            dataset=dataset.name,
            version=version,
            sha256=dataset.sha256,
            uri=dataset.uri,
            rows=judged.verdict.rows,
            profile=stored.profile,
            report_uri=stored.report.uri,
            event_id=event_id,
        )
    )
    if judged.verdict.inferred is not None:  # grown by this version, for the next ones
        await repo.save_inferred(dataset.name, judged.verdict.inferred, version)
