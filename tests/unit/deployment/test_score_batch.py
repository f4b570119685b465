"""A batch job on in-memory ports: the routed version scores the file, or the job says why not."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from driftline.deployment.deps import DeploymentDeps
from driftline.deployment.models.cache import ModelCache
from driftline.deployment.rollout.core import canary_steps
from driftline.deployment.scoring.batch import read_frame, score_batch, write_frame
from driftline.deployment.settings import DeploymentSection
from driftline.runtime.storage.local import LocalArtifactStore
from driftline_contracts.events.deployment import (
    BatchScored,
    BatchScoringFailed,
    BatchScoringRequested,
)
from driftline_contracts.modelspec import CanaryPolicy
from driftline_contracts.values import ModelRef
from tests.unit.deployment.fakes import FakeRollouts
from tests.unit.deployment.test_batch_scoring import MODEL, TRAIN
from tests.unit.deployment.test_rollout_workflow import approved

T0 = datetime(2025, 1, 6, tzinfo=UTC)


async def _job(
    tmp_path: Path, rollouts: FakeRollouts, **request: str
) -> tuple[BatchScored | BatchScoringFailed, DeploymentDeps]:
    store = LocalArtifactStore(tmp_path)
    cache = ModelCache(store)
    for name, version in rollouts.versions:
        cache.put(ModelRef(name=name, version=version), MODEL)
    deps = DeploymentDeps(store=store, cache=cache, settings=DeploymentSection())
    stored = await store.put_bytes(
        "in/rows.csv", write_frame(TRAIN, "csv"), content_type="text/csv"
    )
    event = BatchScoringRequested(model="m", job_id="job-1", input_uri=stored.uri, **request)
    return await score_batch(event, rollouts, deps), deps


async def _serving(versions: int) -> FakeRollouts:
    """Version 1 as champion and, with ``versions`` 2, version 2 as its running canary."""
    rollouts = FakeRollouts()
    refs = [approved(v) for v in range(1, versions + 1)]
    for event in refs:
        await rollouts.record_version(event.model, event.artifact, f"evt-{event.model.version}")
    await rollouts.set_champion(refs[0].model)
    if versions > 1:
        steps = canary_steps(CanaryPolicy())
        await rollouts.start_canary("canary-1", refs[1].model, refs[0].model, steps, T0)
    return rollouts


@pytest.mark.parametrize(("variant", "version"), [("champion", 1), ("canary", 2)])
async def test_the_routed_version_scores_every_row(
    tmp_path: Path, variant: str, version: int
) -> None:
    result, deps = await _job(tmp_path, await _serving(2), variant=variant)
    assert isinstance(result, BatchScored)
    assert (result.model.version, result.variant, result.rows, result.errors) == (
        version,
        variant,
        4,
        0,
    )
    out = read_frame(await deps.store.get_bytes(result.predictions.uri), "csv")
    assert list(out["prediction"]) == list(MODEL.estimator.predict(TRAIN))


async def test_no_running_canary_or_no_model_fails_the_job_with_a_reason(tmp_path: Path) -> None:
    no_canary, _ = await _job(tmp_path, await _serving(1), variant="canary")
    unknown, _ = await _job(tmp_path, FakeRollouts())
    assert isinstance(no_canary, BatchScoringFailed)
    assert isinstance(unknown, BatchScoringFailed)
    assert [no_canary.reasons[0].code, unknown.reasons[0].code] == ["no_canary", "unknown_model"]
