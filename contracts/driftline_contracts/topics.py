"""Every Kafka topic name Driftline uses, in one place.

One topic per event type (keyed by the aggregate: dataset name for data events, model name
for everything else), so a consumer subscribes to exactly what it handles and each
model's or dataset's story is ordered within its topic. Every event is also copied to
``AUDIT``. A failing event goes to ``dlq(original_topic)``.
"""

from __future__ import annotations

PREFIX = "driftline."

MODEL_SPEC_APPLIED = "driftline.model-spec-applied"
DATA_ARRIVED = "driftline.data-arrived"
DATA_VALIDATED = "driftline.data-validated"
DATA_REJECTED = "driftline.data-rejected"
TRAINING_STARTED = "driftline.training-started"
MODEL_TRAINED = "driftline.model-trained"
TRAINING_FAILED = "driftline.training-failed"
RETRAIN_SKIPPED = "driftline.retrain-skipped"
MODEL_REGISTERED = "driftline.model-registered"
MODEL_APPROVED = "driftline.model-approved"
MODEL_REJECTED = "driftline.model-rejected"
CANARY_STARTED = "driftline.canary-started"
CANARY_STEP_ADVANCED = "driftline.canary-step-advanced"
MODEL_PROMOTED = "driftline.model-promoted"
CANARY_ROLLED_BACK = "driftline.canary-rolled-back"
PREDICTIONS_LOGGED = "driftline.predictions-logged"
GROUND_TRUTH_RECEIVED = "driftline.ground-truth-received"
DRIFT_DETECTED = "driftline.drift-detected"
DRIFT_RESOLVED = "driftline.drift-resolved"
BATCH_SCORING_REQUESTED = "driftline.batch-scoring-requested"
BATCH_SCORED = "driftline.batch-scored"
BATCH_SCORING_FAILED = "driftline.batch-scoring-failed"
AUDIT_DIGEST_SIGNED = "driftline.audit-digest-signed"

PREDICT_REQUESTS = "driftline.predict-requests"
"""Streaming scoring in: JSON ``ScoringRequest`` records (not CloudEvents), keyed by model."""
PREDICT_RESPONSES = "driftline.predict-responses"
"""Streaming scoring out: JSON ``ScoringResponse`` records, keyed by model."""
PREDICTION_LOG = "driftline.prediction-log"
"""Deployment's prediction log: one columnar JSON record per served request (not CloudEvents),
written with ``acks=all`` before the answer and compacted into Parquet objects."""

AUDIT = "driftline.audit"
DLQ_SUFFIX = ".dlq"

EVENT_TOPICS: tuple[str, ...] = (
    MODEL_SPEC_APPLIED,
    DATA_ARRIVED,
    DATA_VALIDATED,
    DATA_REJECTED,
    TRAINING_STARTED,
    MODEL_TRAINED,
    TRAINING_FAILED,
    RETRAIN_SKIPPED,
    MODEL_REGISTERED,
    MODEL_APPROVED,
    MODEL_REJECTED,
    CANARY_STARTED,
    CANARY_STEP_ADVANCED,
    MODEL_PROMOTED,
    CANARY_ROLLED_BACK,
    PREDICTIONS_LOGGED,
    GROUND_TRUTH_RECEIVED,
    DRIFT_DETECTED,
    DRIFT_RESOLVED,
    BATCH_SCORING_REQUESTED,
    BATCH_SCORED,
    BATCH_SCORING_FAILED,
    AUDIT_DIGEST_SIGNED,
)
SCORING_TOPICS: tuple[str, ...] = (PREDICT_REQUESTS, PREDICT_RESPONSES)
"""Plain JSON topics of streaming scoring (see ``driftline_contracts.scoring``)."""


def dlq(topic: str) -> str:
    """Dead-letter topic of ``topic``."""
    return topic + DLQ_SUFFIX


def all_topics() -> tuple[str, ...]:
    """Every topic the platform needs: event topics, audit, and a dead-letter topic for each."""
    return (
        *EVENT_TOPICS,
        *(dlq(t) for t in EVENT_TOPICS),
        AUDIT,
        dlq(AUDIT),
        *SCORING_TOPICS,
        dlq(PREDICT_REQUESTS),
        PREDICTION_LOG,
    )
