"""Settings of the deployment service: serving, prediction log, canary judge, shadow, scoring."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from driftline.runtime.settings import RuntimeSettings, ServiceSection


class DeploymentSection(ServiceSection):
    """HTTP binding plus serving, prediction-log and canary-judge settings."""

    port: int = Field(8105, ge=0, le=65535, description="HTTP port of the service (0: any free).")
    max_instances: int = Field(1000, ge=1, description="Most rows one predict request may carry.")
    log_predictions: bool = Field(
        True,
        description="Log every served prediction (monitoring, canary judging, feedback); "
        "off only to measure or debug: canaries cannot be judged and feedback finds no rows.",
    )
    log_synchronous_commit: bool = Field(
        True,
        description="Wait for the prediction log's WAL flush before answering; off: a "
        "PostgreSQL crash may lose the last fraction of a second of logged predictions.",
    )
    inline_predict_ms: float = Field(
        2.0,
        ge=0,
        description="A model that needed under this many ms of CPU for as many rows last time "
        "predicts on the event loop; slower ones (and the first call) in a thread.",
    )
    predict_threads: int = Field(
        1,
        ge=1,
        le=32,
        description="Threads per process that run the predicts too slow for the event loop. "
        "One by default: a process's threads share the GIL, and more of them made 100-row "
        "HistGradientBoosting predicts slower (measured: 6 threads 195 calls/s, 1 thread 337); "
        "use `--workers` to use more cores.",
    )
    model_cache_size: int = Field(
        8, ge=1, description="Loaded model versions kept in memory per process (a cache)."
    )
    log_sink: Literal["postgres", "kafka"] = Field(
        "postgres",
        description="Where served rows are made durable before the answer: 'postgres' (a row "
        "per prediction in deployment's schema) or 'kafka' (one columnar record per request on "
        "driftline.prediction-log, acks=all, compacted into Parquet objects; canary, shadow and "
        "streaming requests still go to PostgreSQL, which their judge and redelivery read).",
    )
    log_produce_batch_bytes: int = Field(
        1_000_000,
        ge=16_384,
        le=16_000_000,
        description="Kafka sink: the producer groups the records of concurrent requests into "
        "batches of up to this many bytes, one produce request (the group commit); keep it under "
        "the topic's max.message.bytes (Kafka's default is 1,048,588).",
    )
    log_produce_timeout_s: float = Field(
        5.0,
        ge=0.5,
        le=60.0,
        description="Kafka sink: how long a request waits for the broker's acknowledgement of "
        "its rows before it is answered 503 and the requests after it are logged in PostgreSQL "
        "until the producer reconnects (the other producers keep 15 s).",
    )
    log_compact_rows: int = Field(
        20_000, ge=1, description="Kafka sink: rows after which a Parquet object is written."
    )
    log_compact_interval_s: float = Field(
        10.0, gt=0, description="Kafka sink: the oldest uncompacted row waits at most this long."
    )
    log_flush_interval_s: float = Field(
        5.0, gt=0, description="Oldest unsent prediction waits at most this long before a batch."
    )
    log_batch_rows: int = Field(
        5000,
        ge=1,
        description="Rows after which a model version's batch of logged predictions closes and "
        "is sent as one PredictionsLogged (under load one large batch as an S3 object costs "
        "less than several inline events).",
    )
    log_recover_after_s: float = Field(
        30.0,
        gt=0,
        description="Logged predictions still unsent after this long (their process died, or "
        "sending them failed) are read back from PostgreSQL and sent; younger ones are sent "
        "from the memory of the process that served them.",
    )
    log_retention_days: float = Field(
        30.0,
        ge=1,
        le=36_500,
        allow_inf_nan=False,
        description="Logged predictions and shadow answers (1 to 36,500 days) older than this "
        "are deleted from "
        "PostgreSQL once sent (hourly, a few thousand rows per statement); feedback for them is "
        "then refused as unknown. Longer than CANARY_STEP_TIMEOUT_S. Monitoring's windows and "
        "training's production rows keep their own retention.",
    )
    log_object_retention_days: float = Field(
        120.0,
        ge=0,
        le=36_500,
        allow_inf_nan=False,
        description="Prediction log objects in the store (the Parquet objects under "
        "prediction-log/ and the JSON-lines batches under predictions/<model>/v<version>/) "
        "last written more than this many days ago are deleted (hourly); 0 keeps them (a "
        "bucket lifecycle rule's job then). At least a day, longer than "
        "CANARY_STEP_TIMEOUT_S; keep it above training's PRODUCTION_RETENTION_DAYS (90), "
        "whose labelled rows read their features from these objects.",
    )
    log_max_rows_per_event: int = Field(
        5000,
        ge=1,
        description="Most predictions per PredictionsLogged; over 1000 go to S3 as JSON lines.",
    )
    judge_interval_s: float = Field(5.0, gt=0, description="How often active canaries are judged.")
    judge_alpha: float = Field(
        0.05, gt=0, lt=1, description="Significance level of the canary judge's tests."
    )
    latency_allowed_increase: float = Field(
        0.2, ge=0, description="Share by which canary latency may exceed the champion's (0.2: 20%)."
    )
    min_labels: int = Field(
        20, ge=1, description="Labelled predictions per variant before accuracy is judged."
    )
    canary_step_timeout_s: float = Field(
        3600.0, gt=0, description="A step still marginal after this long is rolled back."
    )
    shadow_queue_size: int = Field(
        1000,
        ge=1,
        description="Requests waiting for the shadow challenger per process; beyond, copies drop.",
    )
    stream_scoring: bool = Field(
        True, description="Consume driftline.predict-requests and answer on -responses."
    )
    stream_group: str = Field(
        "driftline.deployment.predict-requests",
        min_length=1,
        description="Consumer group reading driftline.predict-requests: the replicas of one "
        "deployment fleet share it; a second fleet on the same Kafka needs its own.",
    )
    stream_max_batch: int = Field(
        500, ge=1, description="Most streaming requests read and scored at once."
    )
    batch_chunk_rows: int = Field(
        10_000, ge=1, description="Rows a batch-scoring job predicts at a time."
    )

    @model_validator(mode="after")
    def _log_outlives_a_canary_step(self) -> DeploymentSection:
        """A step is judged on the rows logged during it: they must still be there."""
        if self.log_retention_days * 86_400 <= self.canary_step_timeout_s:
            raise ValueError(
                f"log_retention_days ({self.log_retention_days:g} days) must be longer than "
                f"canary_step_timeout_s ({self.canary_step_timeout_s:g} s): a canary step is "
                "judged on the predictions logged during it"
            )
        return self

    @model_validator(mode="after")
    def _objects_outlive_a_canary_step(self) -> DeploymentSection:
        """Objects are kept at least a day and longer than a canary step, or kept for good."""
        days = self.log_object_retention_days
        if days and (days < 1 or days * 86_400 <= self.canary_step_timeout_s):
            raise ValueError(
                f"log_object_retention_days ({days:g}) must be 0 (keep) or at least 1 day "
                f"and longer than canary_step_timeout_s ({self.canary_step_timeout_s:g} s)"
            )
        return self


class DeploymentSettings(RuntimeSettings):
    """Runtime settings whose ``deployment`` section carries the serving and canary settings."""

    deployment: DeploymentSection = Field(default_factory=DeploymentSection)


def deployment_section(section: ServiceSection) -> DeploymentSection:
    """The section as a ``DeploymentSection`` (plain runtime settings get the defaults)."""
    if isinstance(section, DeploymentSection):
        return section
    return DeploymentSection.model_validate(section.model_dump())
