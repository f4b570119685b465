"""One realistic, valid instance of every event: for docs, tests and trying things out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from driftline_contracts import events as ev
from driftline_contracts.events import Event
from driftline_contracts.values import (
    ArtifactRef,
    CanaryStep,
    DatasetRef,
    FeatureDrift,
    GateResult,
    MetricResult,
    ModelRef,
    Reason,
    TimeWindow,
)

T0 = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)
SHA_A, SHA_B, SHA_C = "a" * 64, "b" * 64, "c" * 64

DATASET = DatasetRef(
    name="churn",
    uri="s3://lake/churn/2025-01-06.parquet",
    sha256=SHA_A,
    format="parquet",
    rows=120_000,
    size_bytes=8_388_608,
)
ACCEPTED = DATASET.model_copy(update={"version": 7})
V1, V2 = ModelRef(name="churn-clf", version=1), ModelRef(name="churn-clf", version=2)
MODEL = ArtifactRef(
    uri="s3://driftline/models/churn-clf/2.skops",
    sha256=SHA_B,
    media_type="application/vnd.skops",
    size_bytes=1_048_576,
)
REPORT = ArtifactRef(
    uri="s3://driftline/reports/churn.json",
    sha256=SHA_C,
    media_type="application/json",
    size_bytes=20_480,
)
SCORED = ArtifactRef(
    uri="s3://driftline/predictions/churn-clf/batch/batch-2025-01-06.parquet",
    sha256=SHA_C,
    media_type="application/vnd.apache.parquet",
    size_bytes=2_097_152,
)
WINDOW = TimeWindow(start=T0, end=T0 + timedelta(hours=1))
METRICS = {"accuracy": 0.912, "f1": 0.874, "roc_auc": 0.951}
GATES = [
    GateResult(
        gate="min_accuracy",
        metric="accuracy",
        kind="minimum",
        threshold=0.85,
        observed=0.912,
        passed=True,
    ),
    GateResult(
        gate="beat_champion",
        metric="f1",
        kind="beat_champion",
        threshold=0.0,
        observed=0.874,
        champion=0.861,
        passed=True,
    ),
]
JUDGED = [
    MetricResult(
        metric="error_rate", champion=0.002, canary=0.0019, p_value=0.71, samples=4_800, passed=True
    ),
    MetricResult(metric="latency_p95_ms", champion=41.0, canary=39.5, samples=4_800, passed=True),
]
DRIFTS = [
    FeatureDrift(feature="tenure_months", test="psi", statistic=0.31, threshold=0.2, drifted=True),
    FeatureDrift(
        feature="plan", test="chi2", statistic=3.1, p_value=0.21, threshold=0.05, drifted=False
    ),
]
ROW = ev.PredictionRow(
    request_id="req-1",
    time=T0,
    variant="champion",
    features={"tenure_months": 14, "plan": "pro"},
    prediction="stay",
    score=0.83,
    latency_ms=12.5,
)
STEPS = [
    CanaryStep(traffic_percent=p, min_duration_s=600, min_requests=500) for p in (5, 25, 50, 100)
]
TRAINING = {
    "model": "churn-clf",
    "run_id": "run-20250106-0900",
    "dataset": ACCEPTED,
    "spec_hash": SHA_C,
}
GONE = Reason(code="missing_column", message="column 'plan' is missing", field="plan")


def _examples() -> list[Event]:
    return [
        ev.ModelSpecApplied(
            model="churn-clf",
            dataset="churn",
            task="classification",
            target="churned",
            trainer="sklearn.random_forest",
            spec_hash=SHA_C,
            spec={"features": ["tenure_months", "plan"], "gates": {}},
        ),
        ev.DataArrived(dataset=DATASET, pipeline_run="nightly-etl/2025-01-06", produced_at=T0),
        ev.DataValidated(
            dataset=ACCEPTED,
            profile=REPORT,
            baseline_version=6,
            models=["churn-clf"],
            checks_run=42,
        ),
        ev.DataRejected(dataset=DATASET, reasons=[GONE], models=["churn-clf"]),
        ev.TrainingStarted(**TRAINING, trigger="data_validated"),
        ev.ModelTrained(
            **TRAINING,
            artifact=MODEL,
            code_version="1.4.2+g3f2a9c1",
            seed=42,
            params={"n_estimators": 200, "max_depth": None},
            metrics=METRICS,
            packages={"scikit-learn": "1.5.2"},
            train_rows=96_000,
            holdout_rows=24_000,
            duration_s=81.4,
            trainer="service:training",
        ),
        ev.TrainingFailed(
            model="churn-clf",
            run_id="run-20250106-0900",
            dataset=ACCEPTED,
            reason=Reason(code="target_missing", message="no column 'churned'"),
            attempt=1,
            retryable=False,
        ),
        ev.RetrainSkipped(
            model="churn-clf",
            trigger="drift_detected",
            latest_dataset=ACCEPTED,
            reason=Reason(code="no_new_data", message="v7 already trained v2"),
        ),
        ev.ModelRegistered(
            model=V2,
            run_id="run-20250106-0900",
            artifact=MODEL,
            dataset=ACCEPTED,
            spec_hash=SHA_C,
            code_version="1.4.2+g3f2a9c1",
            metrics=METRICS,
            trainer="service:training",
            champion=V1,
            approval="automatic",
        ),
        ev.ModelApproved(
            model=V2, approver="service:registry", gates=GATES, champion=V1, artifact=MODEL
        ),
        ev.ModelRejected(
            model=V2,
            rejected_by="user:alice",
            gates=GATES,
            champion=V1,
            reasons=[Reason(code="manual", message="leaks the target")],
        ),
        ev.CanaryStarted(model=V2, champion=V1, canary_id="canary-17", artifact=MODEL, steps=STEPS),
        ev.CanaryStepAdvanced(
            model=V2,
            champion=V1,
            canary_id="canary-17",
            step=1,
            traffic_percent=25,
            previous_traffic_percent=5,
            verdict="pass",
            results=JUDGED,
            window=WINDOW,
        ),
        ev.ModelPromoted(
            model=V2,
            previous=V1,
            via="canary",
            canary_id="canary-17",
            artifact=MODEL,
            results=JUDGED,
        ),
        ev.CanaryRolledBack(
            model=V2,
            champion=V1,
            canary_id="canary-17",
            step=2,
            traffic_percent=50,
            verdict="fail",
            results=JUDGED,
            window=WINDOW,
            reasons=[Reason(code="error_rate_higher", message="p=0.003")],
        ),
        ev.PredictionsLogged(model=V1, batch_id="batch-1", window=WINDOW, count=1, rows=[ROW]),
        ev.GroundTruthReceived(model="churn-clf", labels={"req-1": "stay"}, received_at=T0),
        ev.DriftDetected(
            model=V1,
            drift_id="drift-3",
            window=WINDOW,
            reference_dataset=ACCEPTED,
            features=DRIFTS,
            performance={"accuracy": 0.84},
            severity="high",
            report=REPORT,
        ),
        ev.DriftResolved(
            model=V2,
            drift_id="drift-3",
            window=WINDOW,
            features=DRIFTS[1:],
            resolution="model_replaced",
            detected_at=T0,
        ),
        ev.BatchScoringRequested(
            model="churn-clf",
            job_id="batch-2025-01-06",
            input_uri="s3://driftline/scoring/churn/2025-01-06.parquet",
            id_column="customer_id",
        ),
        ev.BatchScored(
            model=V1,
            job_id="batch-2025-01-06",
            variant="champion",
            input_uri="s3://driftline/scoring/churn/2025-01-06.parquet",
            input_sha256=SHA_A,
            predictions=SCORED,
            rows=120_000,
            errors=0,
            duration_s=14.2,
        ),
        ev.BatchScoringFailed(
            model="churn-clf",
            job_id="batch-2025-01-07",
            input_uri="s3://driftline/scoring/churn/2025-01-07.parquet",
            reasons=[GONE.model_copy(update={"code": "missing_feature"})],
        ),
        ev.AuditDigestSigned(
            number=2,
            first_seq=9,
            last_seq=14,
            head_hash=SHA_A,
            previous_signature=SHA_C,
            signed_at="2025-01-06T09:30:00+00:00",
            signature=SHA_B,
        ),
    ]


def example(cls: type[Event]) -> Event:
    """A valid sample of event class ``cls``."""
    return next(e for e in _examples() if type(e) is cls)


def examples() -> dict[str, Event]:
    """A valid sample of every event, by CloudEvents type."""
    return {e.ce_type: e for e in _examples()}
