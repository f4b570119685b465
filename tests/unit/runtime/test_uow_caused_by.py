"""``UnitOfWork.emit(caused_by=...)``: a unit of work with no consumed event names a stored
cause; a consumed event's unit refuses a second cause."""

from __future__ import annotations

import pytest

from driftline.runtime.uow import EventRef, UnitOfWork
from driftline_contracts.envelope import Envelope, new_envelope
from driftline_contracts.events.registry import ModelApproved
from driftline_contracts.examples import example


def unit(cause: Envelope | None = None) -> UnitOfWork[None]:
    return UnitOfWork(
        None,  # type: ignore[arg-type]  # emit queues rows; nothing touches the session
        source="driftline/registry", actor="service:registry", cause=cause, deps=None,
    )  # fmt: skip


async def test_without_a_cause_an_emitted_event_starts_its_own_run() -> None:
    envelope = await unit().emit(example(ModelApproved))
    assert envelope.causationid is None
    assert envelope.correlationid == envelope.id


async def test_a_named_cause_gives_causation_and_correlation() -> None:
    envelope = await unit().emit(example(ModelApproved), caused_by=EventRef("e-1", "run-1"))
    assert (envelope.causationid, envelope.correlationid) == ("e-1", "run-1")


async def test_the_outbox_row_carries_the_named_cause() -> None:
    uow = unit()
    await uow.emit(example(ModelApproved), caused_by=EventRef("e-1", "run-1"))
    (row,) = uow.take_outbox_rows()
    headers = dict(row["headers"])
    assert (headers["ce_causationid"], headers["ce_correlationid"]) == ("e-1", "run-1")


async def test_a_named_cause_without_correlation_id_starts_a_new_one() -> None:
    envelope = await unit().emit(example(ModelApproved), caused_by=EventRef("e-1"))
    assert envelope.causationid == "e-1"
    assert envelope.correlationid == envelope.id


async def test_an_explicit_correlation_id_wins() -> None:
    envelope = await unit().emit(
        example(ModelApproved), correlation_id="episode-2", caused_by=EventRef("e-1", "run-1")
    )
    assert (envelope.causationid, envelope.correlationid) == ("e-1", "episode-2")


async def test_a_consumed_event_unit_refuses_a_second_cause() -> None:
    cause = new_envelope(example(ModelApproved), source="driftline/registry", actor="user:a")
    with pytest.raises(ValueError, match="already has one"):
        await unit(cause).emit(example(ModelApproved), caused_by=EventRef("e-1", "run-1"))
