"""The Kafka prediction log's hot path: a request's rows are acknowledged (acks=all) before
its answer.

Each request sends one record (``columnar.encode_record``) and waits for its acknowledgement;
the producer batches the records of concurrent requests into one produce request, which is
the group commit. Its batches hold ``LOG_PRODUCE_BATCH_BYTES``: at aiokafka's 16 KiB default
a 100-row record (about 80 KB) went alone, one broker round trip per request. Rows go to
PostgreSQL instead (the group-committed writer) while the producer is not connected (at start,
and from a send that found the broker away until the producer reconnects), and always for
requests that need per-row reads there: those served during a canary or shadow
step (the judge and the mirror read them) and streaming requests (a redelivery finds its
answer by request id).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from aiokafka.errors import (
    KafkaConnectionError,
    KafkaTimeoutError,
    NodeNotReadyError,
    RequestTimedOutError,
)
from tenacity import RetryCallState

from driftline.deployment.errors import PredictionNotLoggedError
from driftline.deployment.prediction_log.columnar import encode_record
from driftline.deployment.prediction_log.writer import PredictionLogWriter
from driftline.deployment.serving.served_rows import ServedRows
from driftline.runtime.errors import is_transient
from driftline.runtime.logging import get_logger
from driftline.runtime.producer import KafkaPublisher
from driftline.runtime.retry import RetryPolicy, failure_of, is_failure
from driftline.runtime.settings import KafkaSettings
from driftline.runtime.uow import UnitOfWorkFactory
from driftline_contracts.topics import PREDICTION_LOG

log = get_logger(__name__)
BROKER_AWAY = (
    KafkaTimeoutError, KafkaConnectionError, NodeNotReadyError, RequestTimedOutError,
    ConnectionError,
)  # fmt: skip
"""What a send raises when the broker does not answer within the producer's request timeout
(``LOG_PRODUCE_TIMEOUT_S``; ``NodeNotReadyError`` when its connection is gone)."""
CONNECT = RetryPolicy("kafka", initial_s=0.5, max_s=2.0)
"""How the log's producer waits for the broker (it keeps trying; PostgreSQL logs meanwhile)."""


class KafkaLogSink:
    """Sends served rows to ``driftline.prediction-log`` while its producer is connected."""

    def __init__(self) -> None:
        self._publisher: KafkaPublisher | None = None
        self._lost = asyncio.Event()

    @property
    def ready(self) -> bool:
        """Whether requests can be logged to Kafka now."""
        return self._publisher is not None

    async def append(self, served: ServedRows) -> None:
        """Return once the request's successful rows are acknowledged by every in-sync
        replica (failed rows are not logged: nothing to monitor or label)."""
        value, publisher = encode_record(served), self._publisher
        if value is None or publisher is None:
            return
        rows = str(sum(e is None for e in served.predicted.errors)).encode()
        try:
            await publisher.send(
                PREDICTION_LOG, value, key=served.model.encode(), headers=[("rows", rows)]
            )
        except BROKER_AWAY:
            # Unknown outcome: this request is not answered (its rows may be in the log, never
            # twice); the requests after it go to PostgreSQL until the producer reconnects.
            if self._publisher is publisher:
                self._publisher = None
                self._lost.set()
            raise

    async def run(
        self, kafka: KafkaSettings, client_id: str, *, batch_bytes: int, timeout_s: float
    ) -> None:
        """Keep the producer connected until cancelled (retrying while the broker is away);
        the records of concurrent requests share batches of up to ``batch_bytes``, and a send
        not acknowledged within ``timeout_s`` fails (the broker counts as away)."""

        async def connect() -> KafkaPublisher:
            publisher = KafkaPublisher(
                kafka, client_id, batch_bytes=batch_bytes, request_timeout_s=timeout_s
            )
            await publisher.start()
            return publisher

        await self.keep_connected(connect)

    async def keep_connected(self, connect: Callable[[], Awaitable[KafkaPublisher]]) -> None:
        """Connect, and connect again each time a send finds the broker away, until cancelled."""

        def failed(state: RetryCallState) -> None:  # no broker: PostgreSQL logs meanwhile
            log.warning("prediction log producer not connected", error=repr(failure_of(state)),
                        retry_in_s=state.upcoming_sleep)  # fmt: skip

        while True:
            publisher = await CONNECT.call(connect, retry_on=is_failure, on_retry=failed)
            self._lost.clear()
            self._publisher = publisher
            try:
                await self._lost.wait()
                log.warning("prediction log producer lost the broker; PostgreSQL logs meanwhile")
            finally:
                self._publisher = None
                await asyncio.shield(publisher.stop())


async def log_served(
    units: UnitOfWorkFactory,
    writer: PredictionLogWriter,
    sink: KafkaLogSink,
    served: ServedRows,
    *,
    streamed: bool,
) -> None:
    """Make ``served`` durable before its answer: Kafka when it can, else PostgreSQL.

    Raises ``PredictionNotLoggedError`` when the log's store is unavailable (a transient
    error, so a streaming request is retried; an HTTP request is answered 503)."""
    try:
        if sink.ready and served.canary_id is None and not streamed:
            await sink.append(served)
        else:
            await writer.append(units, served)
    except Exception as exc:
        if is_transient(exc):
            raise PredictionNotLoggedError(f"prediction log unavailable: {exc!r}"[:300]) from exc
        raise
