"""What handlers, routes and jobs of the deployment service share (``uow.deps``)."""

from __future__ import annotations

from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass, field

from driftline.deployment.models.cache import ModelCache
from driftline.deployment.prediction_log.kafka_sink import KafkaLogSink
from driftline.deployment.prediction_log.writer import PredictionLogWriter
from driftline.deployment.serving.batchers import Batchers
from driftline.deployment.serving.routing_cache import RoutingCache
from driftline.deployment.serving.served_counter import ServedCounter
from driftline.deployment.serving.signature_check import RowFlagCounter
from driftline.deployment.settings import DeploymentSection
from driftline.deployment.shadow.mirror import ShadowMirror
from driftline.runtime.storage import ArtifactStore


def predict_executor(threads: int) -> Executor:
    """The threads that run slow predicts (created on first use, not here)."""
    return ThreadPoolExecutor(threads, thread_name_prefix="driftline-predict")


@dataclass(frozen=True)
class DeploymentDeps:
    """What handlers, routes and jobs share: store, caches, settings, mirror, log writer."""

    store: ArtifactStore
    cache: ModelCache
    settings: DeploymentSection
    mirror: ShadowMirror = field(default_factory=ShadowMirror)
    routing: RoutingCache = field(default_factory=RoutingCache)
    log_writer: PredictionLogWriter = field(default_factory=PredictionLogWriter)
    """Group-commits served rows; its ``unsent`` holds them until their batch is sent."""
    log_sink: KafkaLogSink = field(default_factory=KafkaLogSink)
    """The Kafka prediction log (``LOG_SINK=kafka``): ready once its producer is connected."""
    predict_ms: dict[tuple[str, int, int], float] = field(default_factory=dict)
    predict_pool: Executor = field(default_factory=lambda: predict_executor(1))
    """Runs the predicts too slow for the event loop (``PREDICT_THREADS`` threads)."""
    row_flags: RowFlagCounter = field(default_factory=RowFlagCounter)
    """Counts served values training never saw, on ``/metrics``."""
    served: ServedCounter = field(default_factory=ServedCounter)
    """Answered requests and rows per model, on ``/metrics`` (what the HPA scales on)."""
    batchers: Batchers = field(default_factory=Batchers)
    """Micro-batchers of the routed versions of models whose spec turns it on."""
