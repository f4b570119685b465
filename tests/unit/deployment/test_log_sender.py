"""The prediction-log sender on in-memory ports: batches read back, recovered rows, shadows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from driftline.deployment.prediction_log.rows import LoggedRow
from driftline.deployment.prediction_log.sender import send_batch, send_closed, send_stale_batches
from driftline.deployment.prediction_log.unsent import PendingBatch
from driftline.deployment.settings import DeploymentSection
from driftline.runtime.storage.local import LocalArtifactStore
from driftline_contracts.events.monitoring import PredictionsLogged
from tests.unit.deployment.fakes import FakeLoggedPredictions, FakeUnsentShadowAnswers, Outbox

OLD = datetime.now(UTC) - timedelta(hours=1)
SECTION = DeploymentSection()


def row(i: int, version: int = 1, variant: str = "champion", at: datetime = OLD) -> LoggedRow:
    return LoggedRow(
        id=i, request_id=f"r{i}", model="m", version=version, variant=variant,
        features={"x": float(i)}, prediction=float(i), score=None, latency_ms=1.0,
        error=None, created_at=at + timedelta(seconds=i),
    )  # fmt: skip


def sent_ids(event: PredictionsLogged) -> list[str]:
    assert event.rows is not None
    return [r.request_id for r in event.rows]


async def test_a_stale_batch_is_read_back_sent_once_and_closed(tmp_path: Path) -> None:
    log = FakeLoggedPredictions([row(2), row(1), row(3, version=2)])
    log.registered = {"batch-a": ("m", 1, OLD), "batch-empty": ("m", 1, OLD)}
    log.batch_of = {1: "batch-a", 2: "batch-a"}
    outbox, store = Outbox(), LocalArtifactStore(tmp_path)
    assert await send_stale_batches(log, store, outbox, datetime.now(UTC)) == 2
    [event] = outbox.events
    assert (event.batch_id, event.model.version, event.count) == ("batch-a", 1, 2)
    assert log.registered == {}
    assert await send_stale_batches(log, store, outbox, datetime.now(UTC)) == 0
    assert len(outbox.events) == 1


async def test_rows_without_a_batch_go_one_event_per_version_with_the_shadow(
    tmp_path: Path,
) -> None:
    now = datetime.now(UTC)  # the sender reads the clock too: "fresh" is relative to it
    log = FakeLoggedPredictions([row(3), row(1), row(2, version=2), row(9, at=now)])
    shadows = FakeUnsentShadowAnswers([row(4, version=2, variant="shadow")])
    outbox = Outbox()
    sent = await send_batch(log, shadows, LocalArtifactStore(tmp_path), outbox, SECTION)
    assert sent == 4
    by_version = {e.model.version: e for e in outbox.events}
    assert sent_ids(by_version[1]) == ["r1", "r3"]  # oldest first; r9 is too fresh
    assert sent_ids(by_version[2]) == ["r2", "r4"]
    assert shadows.batch_of == {4: by_version[2].batch_id}
    assert log.batch_of == {1: by_version[1].batch_id, 3: by_version[1].batch_id,
                            2: by_version[2].batch_id}  # fmt: skip


async def test_nothing_is_sent_before_it_is_due(tmp_path: Path) -> None:
    fresh = datetime.now(UTC) - timedelta(seconds=SECTION.log_recover_after_s / 2)
    log = FakeLoggedPredictions([row(1, at=fresh)])
    outbox = Outbox()
    store = LocalArtifactStore(tmp_path)
    assert await send_batch(log, FakeUnsentShadowAnswers(), store, outbox, SECTION) == 0
    assert outbox.events == []


async def test_a_batch_closed_elsewhere_is_not_sent_again(tmp_path: Path) -> None:
    batch = PendingBatch("m", 1, OLD, batch_id="batch-b", lines=[b'{"x": 1}'], served_at=[OLD])
    log, outbox = FakeLoggedPredictions(), Outbox()
    assert await send_closed(batch, log, LocalArtifactStore(tmp_path), outbox) == 0
    assert outbox.events == []
