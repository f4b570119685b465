"""Digests on the Kafka stream: the event carries the digest exactly; forgeries stay visible."""

from __future__ import annotations

import dataclasses

from driftline.audit.digests import is_signed_by
from driftline.audit.stream_witness import add_record, digest_event, digest_from_event
from driftline.audit.verify import assess
from driftline_contracts.codec import decode, encode
from driftline_contracts.envelope import new_envelope
from driftline_contracts.events import DataArrived
from driftline_contracts.examples import example
from tests.unit.audit.chains import KEY, by_number, chain, sign_at


def _record(event):  # type: ignore[no-untyped-def]
    record = encode(event, new_envelope(event, source="driftline/audit", actor="service:audit"))
    return list(record.headers), record.value


def test_a_digest_survives_the_trip_through_an_event_and_keeps_its_signature() -> None:
    digest = sign_at(chain(8), (8,))[0]
    _, event = decode(*_record(digest_event(digest)))
    back = digest_from_event(event)  # type: ignore[arg-type]
    assert back == digest
    assert is_signed_by(KEY, back)


def test_the_first_copy_of_a_number_wins_and_other_events_are_ignored() -> None:
    genuine = sign_at(chain(8), (8,))[0]
    forged = dataclasses.replace(genuine, head_hash="f" * 64)
    copies: dict = {}
    add_record(copies, *_record(digest_event(genuine)))
    add_record(copies, *_record(digest_event(forged)))
    add_record(copies, *_record(example(DataArrived)))
    add_record(copies, [("ce_type", b"garbage")], b"{}")
    assert copies == {1: genuine}


def test_a_digest_on_the_stream_that_postgres_lost_is_named() -> None:
    rows = chain(20)
    digests = sign_at(rows, (8, 20))
    copies = {"s3": (by_number(digests[:1]), True), "stream": (by_number(digests), False)}
    report = assess(KEY, rows[:8], digests[:1], copies)  # rows and digest 2 gone, S3 too
    kinds = {(f.kind, f.seq) for f in report.findings}
    assert ("truncated", 9) in kinds
    assert ("digest-removed", 20) in kinds


async def test_an_s3_copy_is_written_once_and_never_replaced(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from driftline.audit.witnesses import copy_to_store, read_store_copies
    from driftline.runtime.storage.local import LocalArtifactStore

    store = LocalArtifactStore(tmp_path)
    d1, d2 = sign_at(chain(14), (8, 14))
    assert await copy_to_store(store, d1)
    assert not await copy_to_store(store, d1)
    assert not await copy_to_store(store, dataclasses.replace(d2, number=1))  # kept as it was
    assert await copy_to_store(store, d2)
    assert await read_store_copies(store) == {1: d1, 2: d2}


class _Untouchable:
    """A unit of work that fails the test when the handler uses it."""

    def __getattr__(self, name: str) -> None:
        raise AssertionError(f"the handler used uow.{name}")


async def test_the_sink_does_not_chain_its_own_digests() -> None:
    from driftline.audit.handlers import on_audited_event

    digest = sign_at(chain(8), (8,))[0]
    await on_audited_event(digest_event(digest), _Untouchable())  # type: ignore[arg-type]
