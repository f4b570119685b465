"""Failure classification, back-off and dead-letter headers."""

from __future__ import annotations

import asyncpg
import pytest
from sqlalchemy import exc as sa_exc

from driftline.runtime.deadletter import RawRecord, dead_letter_headers
from driftline.runtime.errors import TransientError, backoff_delay, is_transient
from driftline.runtime.storage.errors import StoreUnavailable


@pytest.mark.parametrize(
    "exc",
    [
        ConnectionRefusedError(111, "refused"),
        TimeoutError(),
        TransientError("db down"),
        StoreUnavailable("s3 down"),
        asyncpg.CannotConnectNowError("starting up"),
        sa_exc.OperationalError("SELECT 1", {}, ConnectionRefusedError()),
        sa_exc.InterfaceError("SELECT 1", {}, Exception("connection is closed")),
    ],
)
def test_outages_are_transient(exc: BaseException) -> None:
    assert is_transient(exc)


@pytest.mark.parametrize(
    "exc",
    [
        ValueError("bad target column"),
        KeyError("x"),
        FileNotFoundError("model.skops"),
        sa_exc.IntegrityError("INSERT", {}, Exception("duplicate key")),
    ],
)
def test_bugs_and_bad_data_are_not_transient(exc: BaseException) -> None:
    assert not is_transient(exc)


def test_wrapped_outage_is_transient_but_context_alone_is_not() -> None:
    wrapped = RuntimeError("upload failed")
    wrapped.__cause__ = ConnectionResetError()
    assert is_transient(wrapped)
    unrelated = ValueError("unrelated domain error")
    unrelated.__context__ = ConnectionResetError()
    assert not is_transient(unrelated)


def test_backoff_doubles_and_is_capped() -> None:
    delays = [backoff_delay(i, 0.2, 5.0) for i in range(8)]
    assert delays[:4] == [0.2, 0.4, 0.8, 1.6]
    assert max(delays) == 5.0
    assert backoff_delay(10_000, 0.2, 5.0) == 5.0


def test_dead_letter_headers_keep_origin_and_reason() -> None:
    record = RawRecord(
        topic="driftline.data-arrived",
        partition=3,
        offset=42,
        key=b"k",
        value=b"{",
        headers=(("ce_id", b"abc"), ("dlq-reason", b"old")),
    )
    headers = dict(
        dead_letter_headers(
            record, ValueError("truncated JSON"), consumer="ingest.on_data_arrived", attempts=0
        )
    )
    assert headers["ce_id"] == b"abc"
    assert headers["dlq-reason"] == b"truncated JSON"
    assert headers["dlq-error-type"] == b"ValueError"
    assert headers["dlq-original-topic"] == b"driftline.data-arrived"
    assert headers["dlq-original-partition"] == b"3"
    assert headers["dlq-original-offset"] == b"42"
    assert headers["dlq-consumer"] == b"ingest.on_data_arrived"


def test_jitter_shortens_each_backoff_by_up_to_its_fraction_and_spreads_them() -> None:
    delays = [backoff_delay(3, 0.2, 5.0, jitter=0.2) for _ in range(200)]
    assert all(1.6 * 0.8 <= d <= 1.6 for d in delays)
    assert max(delays) - min(delays) > 0.1  # spread, not one value
    assert backoff_delay(3, 0.2, 5.0, jitter=0) == 1.6
