"""The streaming-scoring job: poll requests, serve them, answer, dead-letter, then commit."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from aiokafka import AIOKafkaConsumer
from tenacity import RetryCallState

from driftline.deployment.deps import DeploymentDeps
from driftline.deployment.errors import FeatureError, UnknownModelError
from driftline.deployment.models.loading import UNLOADABLE
from driftline.deployment.prediction_log.postgres import PostgresPredictionLog
from driftline.deployment.prediction_log.rows import LoggedRow
from driftline.deployment.scoring.stream_messages import (
    Parsed,
    answer,
    bad_rows,
    encode,
    groups,
    parse,
    refusal,
    refused_answer,
)
from driftline.deployment.serving.answer import serve
from driftline.runtime.background import BackgroundJob
from driftline.runtime.deadletter import DeadLetterPublisher, RawRecord
from driftline.runtime.errors import is_transient
from driftline.runtime.kafka_config import aiokafka_kwargs
from driftline.runtime.logging import get_logger
from driftline.runtime.retry import RetryPolicies, RetryPolicy, failure_of, is_failure
from driftline.runtime.service import ServiceRuntime
from driftline.runtime.uow import UnitOfWorkFactory
from driftline_contracts import topics
from driftline_contracts.scoring import ScoringRequest, ScoringResponse

log = get_logger(__name__)
CONSUMER = "deployment.predict-requests"
JSON_HEADERS = [("content-type", b"application/json")]


@dataclass
class Outcome:
    """What one polled batch produced: responses to send and records to dead-letter."""

    responses: list[ScoringResponse] = field(default_factory=list)
    dead: list[tuple[RawRecord, Exception]] = field(default_factory=list)

    def refuse(self, item: Parsed, reason: Exception) -> None:
        """Dead-letter ``item`` and, when it has a request id, answer with the reason."""
        self.dead.append((item.record, reason))
        if item.request is not None:
            self.responses.append(refused_answer(item.request, reason))


def _replayed(request: ScoringRequest, row: LoggedRow) -> ScoringResponse:
    """A request served before (a redelivery): the logged answer again."""
    return ScoringResponse(
        request_id=request.request_id,
        model=request.model,
        model_version=row.version,
        variant="canary" if row.variant == "canary" else "champion",
        prediction=row.prediction,
        error=row.error,
        served_at=row.created_at,
    )


async def _serve_group(
    units: UnitOfWorkFactory,
    deps: DeploymentDeps,
    key: tuple[str, str | None],
    items: list[Parsed],
    outcome: Outcome,
) -> None:
    requests = [i.request for i in items if i.request is not None]
    try:
        served = await serve(
            units, deps, key[0], [r.features for r in requests], key[1],
            [r.request_id for r in requests],
        )  # fmt: skip
    except FeatureError as exc:
        bad = bad_rows(exc)
        for index in sorted(bad):
            outcome.refuse(items[index], refusal(exc, index))
        rest = [item for i, item in enumerate(items) if i not in bad]
        if rest:
            await _serve_group(units, deps, key, rest, outcome)
        return
    except (UnknownModelError, *UNLOADABLE) as exc:
        for item in items:
            outcome.refuse(item, refusal(exc))
        return
    outcome.responses += [answer(r, s) for r, s in zip(requests, served.outputs(), strict=True)]


async def score_records(
    units: UnitOfWorkFactory, deps: DeploymentDeps, records: Sequence[RawRecord]
) -> Outcome:
    """Serve a polled batch: what to answer and what to dead-letter."""
    outcome = Outcome()
    parsed = [parse(r) for r in records]
    for item in parsed:
        if item.error is not None:
            outcome.refuse(item, item.error)
    batches = groups(parsed)
    ids = [i.request.request_id for items in batches.values() for i in items if i.request]
    async with units() as uow:
        known = await PostgresPredictionLog(uow.session).find(ids)
    for key, items in batches.items():
        fresh = []
        for item in items:
            assert item.request is not None
            row = known.get(item.request.request_id)
            if row is None:
                fresh.append(item)
            else:
                outcome.responses.append(_replayed(item.request, row))
        if fresh:
            await _serve_group(units, deps, key, fresh, outcome)
    return outcome


async def deliver(runtime: ServiceRuntime, outcome: Outcome) -> None:
    """Send the responses and the dead letters, waiting for every acknowledgement."""
    await runtime.publisher.send_batch(
        [
            (topics.PREDICT_RESPONSES, encode(r), r.model.encode(), JSON_HEADERS)
            for r in outcome.responses
        ]
    )
    dead_letters = DeadLetterPublisher(runtime.publisher, runtime.store)
    for record, reason in outcome.dead:
        await dead_letters.publish(record, reason, consumer=CONSUMER, attempts=1)


async def _handle(runtime: ServiceRuntime, records: list[RawRecord]) -> None:
    """Score and deliver a batch; outages are retried, other failures dead-letter the batch
    after ``retry.max_attempts``."""
    bugs = 0

    async def attempt() -> None:
        nonlocal bugs
        try:
            await deliver(runtime, await score_records(runtime.units, runtime.deps, records))
        except Exception as exc:
            bugs += 0 if is_transient(exc) else 1
            raise

    def failed(state: RetryCallState) -> None:
        exc = failure_of(state)
        log.warning("scoring batch failed, retrying", transient=is_transient(exc),
                    retry_in_s=state.upcoming_sleep, error=repr(exc))  # fmt: skip

    policy = RetryPolicies.from_settings(runtime.settings.retry).kafka
    retrying = policy.retrying(
        retry_on=is_failure,
        on_retry=failed,
        give_up=lambda _: bugs >= runtime.settings.retry.max_attempts,
    )
    try:
        await retrying(attempt)
    except Exception as exc:
        log.error("scoring batch failed, dead-lettering", error=repr(exc))
        await deliver(runtime, Outcome(dead=[(r, exc) for r in records]))


async def score_stream_forever(runtime: ServiceRuntime) -> None:
    """Consume scoring requests until cancelled; a lost connection restarts the consumer (an
    outage), any other failure is a bug: logged with its traceback, counted, backed off."""

    async def consume() -> bool:
        await _consume(runtime)
        return True  # the consumer only ends by failing: restart it at once

    policy = RetryPolicy("kafka", initial_s=0.5, max_s=10.0)
    job = BackgroundJob("scoring-stream", consume, policy, idle_s=0.0, metrics=runtime.metrics)
    await job.run_forever()


async def _consume(runtime: ServiceRuntime) -> None:
    """Poll, score, deliver, commit: offsets are committed only after delivery."""
    consumer = AIOKafkaConsumer(
        topics.PREDICT_REQUESTS,
        group_id=runtime.deps.settings.stream_group,
        client_id=f"driftline-{runtime.name}-scoring",
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        **aiokafka_kwargs(runtime.settings.kafka),
    )
    section = runtime.deps.settings
    try:  # a stop while joining the group (start waits for partitions) still leaves it
        await consumer.start()
        while True:
            polled = await consumer.getmany(timeout_ms=500, max_records=section.stream_max_batch)
            records = [RawRecord.from_consumer_record(r) for rs in polled.values() for r in rs]
            if records:
                await _handle(runtime, records)
                await consumer.commit()
    finally:
        await consumer.stop()
