"""The run scores the serving champion on its own holdout rows, or says why it could not."""

from __future__ import annotations

from pathlib import Path

import pytest
import skops.io as sio
from sklearn.dummy import DummyClassifier
from sklearn.ensemble import RandomForestClassifier
from sklearn.tree import DecisionTreeClassifier

from driftline.runtime.storage.local import LocalArtifactStore
from driftline.training.adapters.champions import Champion
from driftline.training.core import job_for, spec_record
from driftline.training.settings import TrainingSection
from driftline.training.worker import TrainingWorker
from driftline_contracts.envelope import Envelope
from driftline_contracts.events.training import ModelTrained
from driftline_contracts.values import ArtifactRef, DatasetRef
from tests.unit.training.builders import cancer, spec
from tests.unit.training.fakes import FakeChampions, FakeJobs, FakeUnits, InlinePool

CAUSE = Envelope(source="test", type="io.driftline.data.validated.v1", subject="cancer",
                 correlationid="corr-1", actor="service:validation")  # fmt: skip
FEATURES = [c for c in cancer().columns if c != "target"]


@pytest.fixture
def store(tmp_path: Path) -> LocalArtifactStore:
    return LocalArtifactStore(tmp_path / "store")


async def _champion(store: LocalArtifactStore, model: object, version: int = 3) -> Champion:
    stored = await store.put_bytes("models/cancer-clf/run-old/model.skops", sio.dumps(model))
    ref = ArtifactRef(uri=stored.uri, sha256=stored.sha256, media_type="application/vnd.skops",
                      size_bytes=stored.size_bytes)  # fmt: skip
    return Champion("cancer-clf", version, ref)


async def _train(store: LocalArtifactStore, champion: Champion | None) -> ModelTrained:
    data = await store.put_bytes("datasets/cancer/v1.csv", cancer().to_csv(index=False).encode())
    dataset = DatasetRef(name="cancer", version=1, uri=data.uri, sha256=data.sha256, format="csv")
    units, jobs = FakeUnits(), FakeJobs()
    worker = TrainingWorker(
        units=units, store=store, settings=TrainingSection(),  # type: ignore[arg-type]
        pool=InlinePool(), repository=lambda _: jobs,  # type: ignore[arg-type]
        champions=lambda _: FakeChampions(champion),
    )  # fmt: skip
    document = spec().model_dump(mode="json")
    jobs.add(job_for(spec_record("cancer-clf", "f" * 64, document), dataset,
                     "data_validated", CAUSE))  # fmt: skip
    assert await worker.run_once()
    (trained,) = units.events(ModelTrained)
    return trained


async def test_the_champion_is_scored_on_the_candidates_own_holdout_rows(
    store: LocalArtifactStore,
) -> None:
    frame = cancer()
    weak = DummyClassifier(strategy="most_frequent").fit(frame[FEATURES], frame["target"])
    trained = await _train(store, await _champion(store, weak))
    check = trained.champion_comparison
    assert check is not None
    assert check.status == "compared"
    assert check.champion is not None
    assert check.champion.version == 3
    assert check.rows == trained.holdout_rows
    assert check.resamples == 1000
    accuracy = next(m for m in check.metrics if m.metric == "accuracy")
    assert accuracy.candidate == pytest.approx(trained.metrics["accuracy"])
    assert accuracy.champion < 0.7  # always the majority class
    assert 0 < accuracy.interval_low <= accuracy.delta <= accuracy.interval_high


async def test_an_identical_champion_is_a_tie(store: LocalArtifactStore) -> None:
    frame = cancer()
    twin = RandomForestClassifier(n_estimators=20, random_state=42)
    twin.fit(frame[FEATURES].sample(frac=1.0, random_state=1), frame["target"])
    trained = await _train(store, await _champion(store, twin))
    check = trained.champion_comparison
    assert check is not None
    assert check.status == "compared"
    assert {m.metric for m in check.metrics} >= {"accuracy", "f1", "roc_auc", "log_loss"}


async def test_without_a_champion_the_event_says_so(store: LocalArtifactStore) -> None:
    trained = await _train(store, None)
    check = trained.champion_comparison
    assert check is not None
    assert (check.status, check.champion, check.metrics) == ("no_champion", None, [])


async def test_a_champion_whose_artifact_is_gone_is_reported_unavailable(
    store: LocalArtifactStore,
) -> None:
    frame = cancer()
    champion = await _champion(store, DummyClassifier().fit(frame[FEATURES], frame["target"]))
    gone = Champion(champion.model, champion.version, champion.artifact.model_copy(
        update={"uri": champion.artifact.uri.replace("run-old", "run-missing")}))  # fmt: skip
    trained = await _train(store, gone)
    check = trained.champion_comparison
    assert check is not None
    assert check.status == "unavailable"
    assert "champion v3" in check.message
    assert "could not be read" in check.message


async def test_a_tampered_champion_artifact_is_not_compared(store: LocalArtifactStore) -> None:
    frame = cancer()
    champion = await _champion(store, DummyClassifier().fit(frame[FEATURES], frame["target"]))
    lying = Champion(champion.model, champion.version,
                     champion.artifact.model_copy(update={"sha256": "0" * 64}))  # fmt: skip
    check = (await _train(store, lying)).champion_comparison
    assert check is not None
    assert check.status == "unavailable"


async def test_a_champion_needing_other_features_is_reported_unavailable(
    store: LocalArtifactStore,
) -> None:
    frame = cancer().rename(columns={"mean_radius": "radius"})
    features = [c for c in frame.columns if c != "target"]
    other = DecisionTreeClassifier(max_depth=2).fit(frame[features], frame["target"])
    check = (await _train(store, await _champion(store, other))).champion_comparison
    assert check is not None
    assert check.status == "unavailable"
    assert "radius" in check.message
