"""The spec-borne code execution attack (issue #15) through every way a spec reaches training:
a raw ModelSpecApplied on Kafka, a queued job (a spec stored before the policy existed), the
training process itself. Each is refused with the field named; the shell never runs."""

from __future__ import annotations

import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from driftline.runtime.consumer import EventProcessor, Outcome, Subscription
from driftline.runtime.deadletter import DeadLetterPublisher, RawRecord
from driftline.runtime.metrics import Metrics
from driftline.runtime.settings import RetrySettings
from driftline.runtime.storage.local import LocalArtifactStore
from driftline.training import core
from driftline.training.core import job_for
from driftline.training.handlers import on_model_spec_applied
from driftline.training.pool import TrainingPool
from driftline.training.runner import run_training
from driftline_contracts.codec import encode
from driftline_contracts.envelope import new_envelope
from driftline_contracts.events.spec import ModelSpecApplied
from driftline_contracts.events.training import ModelTrained, TrainingFailed
from driftline_contracts.modelspec import spec_hash
from tests.unit.runtime.test_event_processor import FakeSender, FakeUnits
from tests.unit.training.builders import cancer, policy, spec
from tests.unit.training.test_worker import CAUSE, _dataset, _setup

CANARY = "tests.unit.training.import_canary"


def _attack(marker: Path) -> dict[str, Any]:
    """The spec of the report: subprocess.Popen with a shell command as its params."""
    trainer = {
        "estimator": "subprocess.Popen",
        "params": {"args": ["/bin/sh", "-c", f"id > {marker}"]},
    }
    return spec(trainer=trainer).model_dump(mode="json")


def _hostile_trainers(marker: Path) -> list[dict[str, Any]]:
    shell = f"id > {marker}"
    return [
        {"estimator": "subprocess.Popen", "params": {"args": ["/bin/sh", "-c", shell]}},
        {"estimator": "os.system", "params": {"command": shell}},
        {"estimator": "builtins.eval", "params": {"source": f"__import__('os').system({shell!r})"}},
        {"estimator": f"{CANARY}.Boom"},
        {"function": "os:system"},
        {"function": f"{CANARY}:boom"},
        {"estimator": "sklearn.ensemble.RandomForestClassifier", "params": {"n_estimator": 3}},
    ]


def _applied(document: dict[str, Any]) -> RawRecord:
    event = ModelSpecApplied(
        model=document["model"],
        dataset=document["dataset"],
        task=document["task"],
        target=document["target"],
        trainer=document["trainer"].get("estimator") or document["trainer"]["function"],
        spec_hash="f" * 64,
        spec=document,
    )
    envelope = new_envelope(event, source="attacker", actor="user:mallory")
    kafka = encode(event, envelope)
    return RawRecord(kafka.topic, 0, 0, kafka.key, kafka.value, tuple(kafka.headers))


class _Units(FakeUnits):
    """Fake units of work carrying the training service's dependencies."""

    def __init__(self, deps: Any) -> None:
        super().__init__()
        self.deps = deps

    def __call__(self, *, cause: Any = None) -> Any:
        opened = super().__call__(cause=cause)
        deps = self.deps

        class _WithDeps:
            async def __aenter__(self) -> Any:
                uow = await opened.__aenter__()
                uow.deps, uow.session = deps, None
                return uow

            async def __aexit__(self, *exc: Any) -> Any:
                return await opened.__aexit__(*exc)

        return _WithDeps()


async def _consume(record: RawRecord) -> tuple[Outcome, FakeSender]:
    sender = FakeSender()

    async def no_sleep(_: float) -> None:
        return None

    processor = EventProcessor(
        Subscription(ModelSpecApplied, on_model_spec_applied),
        service="training",
        units=_Units(SimpleNamespace(policy=policy())),  # type: ignore[arg-type]
        dead_letters=DeadLetterPublisher(sender),  # type: ignore[arg-type]
        retry=RetrySettings(max_attempts=2, initial_backoff_s=0.01, jitter=0),
        metrics=Metrics("training-test"),
        sleep=no_sleep,
    )
    return await processor.process(record), sender


async def test_a_popen_spec_from_kafka_is_dead_lettered_and_never_runs(tmp_path: Path) -> None:
    marker = tmp_path / "MARKER"
    outcome, sender = await _consume(_applied(_attack(marker)))
    assert outcome is Outcome.DEAD_LETTERED
    ((topic, _, headers),) = sender.sent
    assert topic.endswith(".dlq")
    reason = headers["dlq-reason"].decode()
    assert "trainer.estimator: 'subprocess.Popen' is not an allowed estimator" in reason
    assert not marker.exists()


@pytest.mark.parametrize("index", range(7))
async def test_every_hostile_trainer_from_kafka_is_dead_lettered(
    tmp_path: Path, index: int
) -> None:
    marker = tmp_path / "MARKER"
    sys.modules.pop(CANARY, None)
    trainer = _hostile_trainers(marker)[index]
    outcome, sender = await _consume(_applied(spec(trainer=trainer).model_dump(mode="json")))
    assert outcome is Outcome.DEAD_LETTERED
    assert "trainer." in sender.sent[0][2]["dlq-reason"].decode()
    assert not marker.exists()
    assert CANARY not in sys.modules


def test_an_allowed_spec_passes_the_handler_check() -> None:
    document = spec().model_dump(mode="json")
    record = core.spec_record("cancer-clf", spec_hash(spec()), document)
    assert core.allowed_trainer(record, policy()) is record


@pytest.mark.parametrize("index", range(7))
def test_the_training_process_refuses_before_reading_the_data(tmp_path: Path, index: int) -> None:
    marker = tmp_path / "MARKER"
    sys.modules.pop(CANARY, None)
    document = spec(trainer=_hostile_trainers(marker)[index]).model_dump(mode="json")
    output = run_training(str(tmp_path / "absent.csv"), "csv", document, 100, policy=policy())
    assert output.failure is not None
    code, message, field = output.failure
    assert code == "trainer_not_allowed"
    assert field is not None
    assert message.startswith(field)
    assert not marker.exists()
    assert CANARY not in sys.modules


async def test_a_forked_training_process_refuses_the_attack(tmp_path: Path) -> None:
    marker = tmp_path / "MARKER"
    data = tmp_path / "cancer.csv"
    cancer().to_csv(data, index=False)
    pool = TrainingPool(max_workers=1, policy=policy())
    popen = await pool.train(str(data), "csv", _attack(marker), 10_000, 60)
    path = spec(trainer={"function": f"{CANARY}:boom"}).model_dump(mode="json")
    function = await pool.train(str(data), "csv", path, 10_000, 60)
    # boom() raises if called (trainer_error): trainer_not_allowed says it never was
    assert popen.failure is not None
    assert popen.failure[0] == "trainer_not_allowed"
    assert function.failure is not None
    assert function.failure[0] == "trainer_not_allowed"
    assert not marker.exists()


async def test_a_stored_job_with_a_refused_spec_fails_as_trainer_not_allowed(
    tmp_path: Path,
) -> None:
    """A spec stored before the policy existed (or written to the queue directly) still
    meets the check right before the fit: TrainingFailed, no run output, no shell."""
    marker = tmp_path / "MARKER"
    store = LocalArtifactStore(tmp_path / "store")
    worker, units, jobs = _setup(store)
    record = core.SpecRecord("cancer-clf", "cancer", "f" * 64, _attack(marker))
    jobs.add(job_for(record, await _dataset(store), "data_validated", CAUSE))
    assert await worker.run_once()
    (failed,) = units.events(TrainingFailed)
    assert failed.reason.code == "trainer_not_allowed"
    assert failed.reason.field == "trainer.estimator"
    assert not units.events(ModelTrained)
    assert not marker.exists()
