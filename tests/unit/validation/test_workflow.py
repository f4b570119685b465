"""The arrival workflow: versions, stored profiles and reports, idempotence, rejections."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from driftline.runtime.storage.local import LocalArtifactStore
from driftline.stats.profile import DatasetProfile
from driftline.validation.settings import ValidationSection
from driftline.validation.workflow import ValidationDeps, validate_arrival
from driftline_contracts.events.data import DataRejected, DataValidated
from driftline_contracts.values import DatasetRef
from tests.unit.validation.helpers import MemoryRepository, dataset_ref, spec

EXPECTATIONS = {"columns": [{"name": "age", "min": 0, "max": 120}]}


@pytest.fixture
def deps(tmp_path: Path) -> ValidationDeps:
    """A local store and default limits."""
    store = LocalArtifactStore(tmp_path / "objects")
    return ValidationDeps(store=store, settings=ValidationSection(), workdir=tmp_path)


def _csv(seed: int, shift: float = 0.0, rows: int = 500) -> bytes:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "age": rng.integers(18, 90, rows),
            "spend": rng.normal(100 + shift, 10, rows).round(3),
            "label": rng.integers(0, 2, rows),
        }
    )
    return frame.to_csv(index=False).encode()


async def _arrive(deps: ValidationDeps, data: bytes, key: str) -> DatasetRef:
    stored = await deps.store.put_bytes(f"datasets/{key}", data)
    return dataset_ref(stored.uri, data)


async def test_versions_profiles_reports_and_drift(deps: ValidationDeps) -> None:
    repo = MemoryRepository([spec("churn", expectations=EXPECTATIONS)])
    v1 = await _arrive(deps, _csv(0), "v1.csv")
    first = await validate_arrival(v1, repo, deps, event_id="e1")
    assert isinstance(first, DataValidated)
    assert (first.dataset.version, first.dataset.rows, first.baseline_version) == (1, 500, None)
    assert first.models == ["churn"]
    assert first.checks_run > 0
    assert first.profile.uri.endswith(f"profiles/customers/{first.dataset.sha256}.json")
    raw = await deps.store.get_bytes(first.profile.uri, sha256=first.profile.sha256)
    assert DatasetProfile.model_validate_json(raw).rows == 500
    report_uri = first.profile.uri.replace("profiles/", "reports/validation/")
    report = json.loads(await deps.store.get_bytes(report_uri))
    assert report["outcome"] == "accepted"
    assert report["version"] == 1
    assert all({"expected", "observed", "passed", "model"} <= set(c) for c in report["checks"])
    html = await deps.store.get_bytes(report_uri.replace(".json", ".html"))
    assert b"<table>" in html
    assert b"<script" not in html

    # half a standard deviation: a shift the drift test sees, inside the inferred range
    shifted = await _arrive(deps, _csv(1, shift=5.0), "v2.csv")
    second = await validate_arrival(shifted, repo, deps, event_id="e2")
    assert isinstance(second, DataValidated)
    assert (second.dataset.version, second.baseline_version) == (2, 1)
    assert [(w.code, w.field) for w in second.warnings] == [("distribution_shift", "spend")]


async def test_same_bytes_twice_is_one_version_and_no_new_event(deps: ValidationDeps) -> None:
    repo = MemoryRepository([spec("churn", expectations=EXPECTATIONS)])
    ref = await _arrive(deps, _csv(0), "v1.csv")
    assert isinstance(await validate_arrival(ref, repo, deps, event_id="e1"), DataValidated)
    assert await validate_arrival(ref, repo, deps, event_id="e2") is None
    assert [v.version for v in repo.versions] == [1]


async def test_rejection_repeats_only_when_the_specs_changed(deps: ValidationDeps) -> None:
    strict = spec("churn", expectations={"columns": [{"name": "age", "max": 20}]})
    repo = MemoryRepository([strict])
    ref = await _arrive(deps, _csv(0), "v1.csv")
    rejected = await validate_arrival(ref, repo, deps, event_id="e1")
    assert isinstance(rejected, DataRejected)
    assert [(r.code, r.field) for r in rejected.reasons] == [("out_of_range", "age")]
    assert rejected.profile is not None
    assert await validate_arrival(ref, repo, deps, event_id="e2") is None
    repo.specs = [spec("churn", expectations=EXPECTATIONS, spec_hash="d" * 64)]
    accepted = await validate_arrival(ref, repo, deps, event_id="e3")
    assert isinstance(accepted, DataValidated)
    assert accepted.dataset.version == 1


async def test_inferred_expectations_hold_later_versions(deps: ValidationDeps) -> None:
    repo = MemoryRepository()
    v1 = await _arrive(deps, _csv(0), "v1.csv")
    first = await validate_arrival(v1, repo, deps, event_id="e1")
    assert isinstance(first, DataValidated)
    assert first.models == []
    assert "customers" in repo.inferred_by_dataset
    broken = b"age,spend\n30,1.0\n40,2.0\n"
    v2 = await _arrive(deps, broken, "v2.csv")
    second = await validate_arrival(v2, repo, deps, event_id="e2")
    assert isinstance(second, DataRejected)
    assert ("missing_column", "label") in {(r.code, r.field) for r in second.reasons}


async def test_hostile_object_is_rejected_without_profile(deps: ValidationDeps) -> None:
    repo = MemoryRepository([spec("churn")])
    ref = await _arrive(deps, "a,b\nJosé,1\n".encode("latin-1"), "bad.csv")
    rejected = await validate_arrival(ref, repo, deps, event_id="e1")
    assert isinstance(rejected, DataRejected)
    assert [r.code for r in rejected.reasons] == ["not_utf8"]
    assert rejected.profile is None
    assert rejected.models == ["churn"]


async def test_missing_object_is_not_remembered(deps: ValidationDeps) -> None:
    repo = MemoryRepository()
    ref = dataset_ref(deps.store.uri_for("datasets/later.csv"), _csv(0))
    rejected = await validate_arrival(ref, repo, deps, event_id="e1")
    assert isinstance(rejected, DataRejected)
    assert rejected.reasons[0].code == "object_missing"
    await deps.store.put_bytes("datasets/later.csv", _csv(0))
    assert isinstance(await validate_arrival(ref, repo, deps, event_id="e2"), DataValidated)
