"""The deployment service's background jobs, by name: one screen says what runs beside requests."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta

from driftline.deployment.deps import DeploymentDeps
from driftline.deployment.prediction_log.compactor import compact_forever
from driftline.deployment.prediction_log.object_retention import PRUNE_EVERY_S as OBJECTS_EVERY_S
from driftline.deployment.prediction_log.object_retention import ObjectRetention
from driftline.deployment.prediction_log.retention import PRUNE_EVERY_S, RetentionPass
from driftline.deployment.prediction_log.sender import log_predictions_forever
from driftline.deployment.rollout.canary import judge_canaries_forever
from driftline.deployment.rollout.metrics import refresh_forever, rollout_gauges
from driftline.deployment.scoring.stream import score_stream_forever
from driftline.deployment.serving.routing_cache import listen_for_changes
from driftline.deployment.shadow.mirror import mirror_forever
from driftline.runtime.background import BackgroundJob
from driftline.runtime.retry import RetryPolicy
from driftline.runtime.service import ServiceRuntime

Job = Callable[[], Awaitable[None]]


def background_jobs(runtime: ServiceRuntime) -> list[Job]:
    """Routing listener, log writer, batch sender and retention (rows and objects), canary
    judge, shadow mirror, rollout gauges, and stream scoring when it is on (each task is
    named after its job)."""
    deps: DeploymentDeps = runtime.deps

    async def follow_routing_changes() -> None:
        await listen_for_changes(runtime.engine, deps.routing)

    async def write_prediction_log() -> None:
        await deps.log_writer.run(
            runtime.engine, synchronous_commit=deps.settings.log_synchronous_commit
        )

    async def send_prediction_batches() -> None:
        await log_predictions_forever(
            runtime.units, runtime.store, deps.settings, deps.log_writer.unsent, runtime.metrics
        )

    async def produce_prediction_log() -> None:
        await deps.log_sink.run(
            runtime.settings.kafka,
            f"driftline-{runtime.name}-log",
            batch_bytes=deps.settings.log_produce_batch_bytes,
            timeout_s=deps.settings.log_produce_timeout_s,
        )

    async def compact_prediction_log() -> None:
        await compact_forever(runtime.units, runtime.store, runtime.settings.kafka, deps.settings)

    async def prune_prediction_log() -> None:
        retention = RetentionPass(runtime.units, timedelta(days=deps.settings.log_retention_days))
        policy = RetryPolicy("database", initial_s=1.0, max_s=60.0)
        job = BackgroundJob("prediction-log-retention", retention.step, policy,
                            idle_s=PRUNE_EVERY_S, metrics=runtime.metrics)  # fmt: skip
        await job.run_forever()

    async def prune_prediction_objects() -> None:
        retention = timedelta(days=deps.settings.log_object_retention_days)
        policy = RetryPolicy("s3", initial_s=1.0, max_s=60.0)
        job = BackgroundJob("prediction-object-retention", ObjectRetention(runtime.store,
                            retention).step, policy, idle_s=OBJECTS_EVERY_S,
                            metrics=runtime.metrics)  # fmt: skip
        await job.run_forever()

    async def judge_canaries() -> None:
        await judge_canaries_forever(runtime.units, deps.settings, runtime.metrics)

    async def score_shadow_copies() -> None:
        await mirror_forever(runtime.units, deps.cache, deps.mirror, runtime.metrics)

    async def score_request_stream() -> None:
        await score_stream_forever(runtime)  # counts its failures in runtime.metrics

    gauges = rollout_gauges(runtime.metrics.registry)

    async def show_rollouts() -> None:
        await refresh_forever(runtime, gauges)

    jobs: list[Job] = [
        follow_routing_changes,
        write_prediction_log,
        send_prediction_batches,
        prune_prediction_log,
        judge_canaries,
        score_shadow_copies,
        show_rollouts,
    ]
    if deps.settings.log_object_retention_days:
        jobs.append(prune_prediction_objects)
    if deps.settings.log_sink == "kafka":
        jobs += [produce_prediction_log, compact_prediction_log]
    return [*jobs, score_request_stream] if deps.settings.stream_scoring else jobs
