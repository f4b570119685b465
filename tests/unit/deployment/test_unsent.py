"""Batches held in memory: one open batch per model version, closed by size or age, sent only
once no write is still filling them, and let go (to the recovery pass) past the memory limit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from driftline.deployment.prediction_log.unsent import PendingBatch, UnsentRows

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def fill(unsent: UnsentRows, model: str, versions: list[int], at: datetime) -> list[PendingBatch]:
    """Assign rows, write them and commit them, as the log writer does."""
    batches = unsent.assign(model, versions, at)
    unsent.writing(batches, +1)
    for i, batch in enumerate(batches):
        unsent.committed(batch, f"{model}-{at.timestamp()}-{i}", b"{}", at)
    unsent.writing(batches, -1)
    return batches


def test_each_model_version_fills_its_own_batch_until_it_has_enough_rows() -> None:
    unsent = UnsentRows(rows=3)
    first = fill(unsent, "m", [1, 1, 2], T0)
    assert first[0] is first[1], "one open batch per version"
    assert first[0] is not first[2]
    second = fill(unsent, "m", [1, 1], T0)
    assert second[0] is first[0]
    assert second[1] is not first[0], "full at 3 rows: a new batch"
    (sent,) = unsent.ready(T0)
    assert (sent.version, len(sent.lines)) == (1, 3)


def test_a_batch_closes_once_its_first_row_waited_the_flush_interval() -> None:
    unsent = UnsentRows(rows=100)
    fill(unsent, "m", [1], T0)
    assert unsent.ready(T0 + timedelta(seconds=4)) == []
    (sent,) = unsent.ready(T0 + timedelta(seconds=5))
    assert sent.closed
    later = fill(unsent, "m", [1], T0 + timedelta(seconds=6))
    assert later[0] is not sent, "rows after closing go to a new batch"


def test_a_closed_batch_waits_for_the_writes_still_filling_it() -> None:
    unsent = UnsentRows(rows=100)
    (batch,) = unsent.assign("m", [1], T0)
    unsent.writing([batch], +1)
    assert unsent.ready(T0 + timedelta(seconds=10)) == []
    unsent.committed(batch, "r", b"{}", T0)
    unsent.writing([batch], -1)
    assert unsent.ready(T0 + timedelta(seconds=10)) == [batch]


def test_batches_memory_does_not_wholly_know_are_left_to_recovery() -> None:
    unsent = UnsentRows(rows=2, limit=4)
    for second in range(4):  # four full batches, 8 rows: more than the limit of 4
        fill(unsent, "m", [1, 1], T0 + timedelta(seconds=second))
    unsent.assign("m", [1], T0 + timedelta(seconds=5))  # closes the fourth
    kept = unsent.ready(T0 + timedelta(seconds=5))
    assert [len(b.lines) for b in kept] == [2, 2]
    assert unsent.dropped == 2
    (broken,) = fill(unsent, "m", [2], T0)
    broken.whole = False  # a write inserted fewer rows than it carried
    assert unsent.ready(T0 + timedelta(seconds=60)) == []


def test_no_row_joins_a_batch_older_than_the_flush_interval() -> None:
    unsent = UnsentRows(rows=100, flush_interval_s=5)
    (first,) = fill(unsent, "m", [1], T0)
    (second,) = fill(unsent, "m", [1], T0 + timedelta(seconds=6))  # the job never looked
    assert second is not first
    assert first.closed, "closed by the writer itself: recovery may take it later"
