"""A pending drift is read under the dataset's lock, the lock ``on_drift_detected`` holds while
it reads the labelled rows. Read before the lock (as it was), a drift handled in the same
instant as the predictions it needed recorded itself as pending after this handler had looked,
and nothing retrained it (seen once in CI: labels, then predictions, then the drift, 23 ms
apart; the regression journey waited 180 s for a retrain that never came)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from driftline.training import handlers


class Recorder:
    def __init__(self) -> None:
        self.steps: list[str] = []


class FakeRepository:
    def __init__(self, recorder: Recorder) -> None:
        self.recorder = recorder

    async def spec(self, model: str) -> Any:
        return SimpleNamespace(model=model, dataset="seattle")

    async def lock_dataset(self, dataset: str) -> None:
        self.recorder.steps.append(f"lock {dataset}")

    async def latest_version(self, dataset: str) -> None:
        self.recorder.steps.append("latest")

    async def last_run(self, model: str) -> None:
        return None

    async def labelled(self, model: str) -> Any:
        return SimpleNamespace(rows=0, until=0)


class FakePending:
    def __init__(self, recorder: Recorder, cause: Any) -> None:
        self.recorder, self.cause = recorder, cause

    async def get(self, model: str) -> Any:
        self.recorder.steps.append("pending drift read")
        return self.cause


async def test_the_pending_drift_is_read_under_the_dataset_lock(monkeypatch) -> None:
    recorder = Recorder()
    monkeypatch.setattr(handlers, "PostgresTrainingRepository", lambda _: FakeRepository(recorder))
    monkeypatch.setattr(handlers, "PendingDrifts", lambda _: FakePending(recorder, None))
    uow = SimpleNamespace(session=None, deps=SimpleNamespace(
        settings=SimpleNamespace(max_labelled_rows=100)))  # fmt: skip
    await handlers.answer_pending_drift("seattle-temp", uow)  # type: ignore[arg-type]
    assert recorder.steps == ["lock seattle", "pending drift read"]


async def test_without_labels_nothing_is_read_or_locked(monkeypatch) -> None:
    recorder = Recorder()
    monkeypatch.setattr(handlers, "PostgresTrainingRepository", lambda _: FakeRepository(recorder))
    uow = SimpleNamespace(session=None, deps=SimpleNamespace(
        settings=SimpleNamespace(max_labelled_rows=0)))  # fmt: skip
    await handlers.answer_pending_drift("seattle-temp", uow)  # type: ignore[arg-type]
    assert recorder.steps == []
