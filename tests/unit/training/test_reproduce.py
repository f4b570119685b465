"""Reproducing a run: identical metrics from the recorded lineage, refusals when it changed."""

from __future__ import annotations

from pathlib import Path

import pytest

from driftline.runtime.storage.local import LocalArtifactStore
from driftline.training.core import job_for, spec_record
from driftline.training.records import RunRecord
from driftline.training.reproduce import (
    ReproductionError,
    compare_metrics,
    environment_changes,
    reproduce_run,
    window_of,
)
from driftline.training.runner import run_training
from driftline.training.settings import TrainingSection
from driftline_contracts.modelspec import spec_hash
from driftline_contracts.values import DatasetRef
from tests.unit.training.builders import cancer, policy, spec
from tests.unit.training.fakes import InlinePool
from tests.unit.training.test_worker import CAUSE, _dataset, _production_rows, _setup

SPEC = spec(trainer={"function": "train_logistic"})


async def _recorded(store: LocalArtifactStore, tmp_path: Path) -> tuple[RunRecord, dict]:
    """A run as the worker records it: trained by ``run_training`` on stored bytes."""
    data = cancer().to_csv(index=False).encode()
    stored = await store.put_bytes("datasets/cancer/v1.csv", data)
    (tmp_path / "v1.csv").write_bytes(data)
    document = SPEC.model_dump(mode="json")
    output = run_training(str(tmp_path / "v1.csv"), "csv", document, 10_000, policy=policy())
    record = RunRecord(
        run_id="run-1",
        model="cancer-clf",
        status="succeeded",
        trigger="data_validated",
        attempt=1,
        dataset=DatasetRef(
            name="cancer", version=1, uri=stored.uri, sha256=stored.sha256, format="csv"
        ),
        spec_hash=spec_hash(SPEC),
        seed=42,
        metrics=output.metrics,
        lineage={"packages": {"scikit-learn": "0.0.1"}},
    )
    return record, document


async def _reproduce(store: LocalArtifactStore, record: RunRecord, document: dict | None):
    return await reproduce_run(
        record, document, store=store, pool=InlinePool(), settings=TrainingSection()
    )


async def test_a_deterministic_run_reproduces_its_metrics_exactly(tmp_path: Path) -> None:
    store = LocalArtifactStore(tmp_path / "store")
    record, document = await _recorded(store, tmp_path)
    result = await _reproduce(store, record, document)
    assert result.match
    assert [c.name for c in result.metrics] == ["accuracy", "f1", "log_loss", "roc_auc"]
    assert all(c.recorded == c.reproduced for c in result.metrics)
    assert result.trainer == "train_logistic"
    assert result.environment["scikit-learn"][0] == "0.0.1"


async def test_other_recorded_metrics_are_a_mismatch(tmp_path: Path) -> None:
    store = LocalArtifactStore(tmp_path / "store")
    record, document = await _recorded(store, tmp_path)
    nudged = {**record.metrics, "accuracy": record.metrics["accuracy"] + 1e-12}
    result = await _reproduce(store, record.model_copy(update={"metrics": nudged}), document)
    assert not result.match
    assert [c.name for c in result.metrics if not c.match] == ["accuracy"]


async def test_one_changed_byte_of_the_dataset_is_refused(tmp_path: Path) -> None:
    store = LocalArtifactStore(tmp_path / "store")
    record, document = await _recorded(store, tmp_path)
    data = bytearray(cancer().to_csv(index=False).encode())
    data[-2] = ord("0") if data[-2] != ord("0") else ord("1")
    await store.put_bytes("datasets/cancer/v1.csv", bytes(data))
    with pytest.raises(ReproductionError) as raised:
        await _reproduce(store, record, document)
    assert raised.value.code == "dataset_changed"
    assert "sha256" in raised.value.message


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"status": "failed"}, "not_reproducible"),
        ({"spec_hash": "0" * 64}, "spec_changed"),
        (
            {"dataset": DatasetRef(name="c", uri="s3://x/none.csv", sha256="a" * 64, format="csv")},
            "data_unavailable",
        ),
    ],
)
async def test_runs_that_cannot_be_reproduced_say_why(
    tmp_path: Path, change: dict, code: str
) -> None:
    store = LocalArtifactStore(tmp_path / "store")
    record, document = await _recorded(store, tmp_path)
    with pytest.raises(ReproductionError) as raised:
        await _reproduce(store, record.model_copy(update=change), document)
    assert raised.value.code == code


def test_metrics_match_only_when_exactly_equal_on_both_sides() -> None:
    checks = compare_metrics({"a": 0.5, "b": 1.0, "c": 2.0}, {"a": 0.5, "b": 1.0000001, "d": 3.0})
    assert [(c.name, c.match) for c in checks] == [
        ("a", True),
        ("b", False),
        ("c", False),
        ("d", False),
    ]


def test_environment_changes_name_the_packages_that_moved() -> None:
    recorded = {"packages": {"numpy": "2.0.0", "pandas": "2.2.0"}}
    assert environment_changes(recorded, {"numpy": "2.0.0", "pandas": "2.3.0"}) == {
        "pandas": ["2.2.0", "2.3.0"]
    }


async def test_a_run_with_labelled_production_rows_reproduces_with_them(tmp_path: Path) -> None:
    store = LocalArtifactStore(tmp_path / "store")
    worker, _, jobs = _setup(store)
    jobs.labelled = _production_rows(80)
    document = SPEC.model_dump(mode="json")
    record = spec_record("cancer-clf", spec_hash(SPEC), document)
    jobs.add(job_for(record, await _dataset(store), "drift_detected", CAUSE, labelled_until=80))
    assert await worker.run_once()
    (run,) = jobs.runs
    assert (await _reproduce(store, run, document)).match
    without = {k: v for k, v in run.artifacts.items() if k != "labelled_rows.csv"}
    assert not (
        await _reproduce(store, run.model_copy(update={"artifacts": without}), document)
    ).match


async def test_a_run_over_several_versions_reproduces_on_all_of_them(tmp_path: Path) -> None:
    """The window's versions in the run's lineage are read again; the newest alone would
    give other metrics."""
    store, frame = LocalArtifactStore(tmp_path / "store"), cancer()
    refs, files = [], []
    for number, part in enumerate((frame.iloc[::2], frame.iloc[1::2]), start=1):
        data = part.to_csv(index=False).encode()
        stored = await store.put_bytes(f"datasets/cancer/part{number}.csv", data)
        (tmp_path / f"v{number}.csv").write_bytes(data)
        files.append((str(tmp_path / f"v{number}.csv"), "csv"))
        refs.append(DatasetRef(name="cancer", version=number, uri=stored.uri,
                               sha256=stored.sha256, format="csv"))  # fmt: skip
    document = SPEC.model_dump(mode="json")
    output = run_training(files, "csv", document, 10_000, policy=policy())
    record, _ = await _recorded(store, tmp_path)
    record = record.model_copy(update={
        "dataset": refs[-1], "metrics": output.metrics,
        "lineage": {"datasets": [r.model_dump(mode="json") for r in refs]},
    })  # fmt: skip
    assert window_of(record) == refs
    assert (await _reproduce(store, record, document)).match
    alone = record.model_copy(update={"lineage": {}})
    assert not (await _reproduce(store, alone, document)).match
