"""The model spec a data scientist applies (``driftline apply churn.yaml``).

Shared by the registry (validates and stores it, emits ``ModelSpecApplied`` with
``spec = ModelSpec.model_dump(mode="json")``), training (how to train and evaluate),
deployment (canary policy), monitoring (drift policy) and validation (``expectations``,
in the format of docs/expectations.md, kept opaque here).
"""

from __future__ import annotations

import difflib
import hashlib
import json
from typing import Annotated, Literal

from pydantic import Field, JsonValue, ValidationInfo, field_validator, model_validator

from driftline_contracts.values import FiniteFloat, Name, Slug, Value

Task = Literal["classification", "regression"]
TASK_METRICS: dict[str, tuple[str, ...]] = {
    "classification": ("accuracy", "f1", "roc_auc", "log_loss"),
    "regression": ("rmse", "mae", "r2"),
}
"""The holdout metrics training computes for each task; specs may name only these."""


def _unknown_metric(where: str, name: str, known: tuple[str, ...], what: str) -> str:
    """Why ``name`` is refused, with the nearest known name when one is close."""
    close = difflib.get_close_matches(name, known, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return f"{where}: {name!r} is not {what}{hint}; known: {', '.join(known)}"


ImportPath = Annotated[str, Field(pattern=r"^[A-Za-z_][\w.]*(:[A-Za-z_]\w*)?$", max_length=256)]


class TrainerSpec(Value):
    """What trains the model: an allowed estimator class, or an installed trainer plug-in.

    The shape is checked here; which names are allowed is the operator's trainer policy
    (``driftline.runtime.trainer_policy``), which the registry and training apply.
    """

    estimator: ImportPath | None = Field(
        None,
        description="Estimator class on the operator's allow-list, e.g. "
        "sklearn.ensemble.RandomForestClassifier.",
    )
    function: ImportPath | None = Field(
        None,
        description="Name of an installed trainer plug-in (an entry point of the "
        "driftline.trainers group), called as train(train_df, spec); never an import path.",
    )
    params: dict[Name, JsonValue] = Field(
        default_factory=dict,
        description="Keyword arguments for the estimator: JSON values for parameters its "
        "constructor declares.",
    )

    @model_validator(mode="after")
    def _exactly_one(self) -> TrainerSpec:
        if (self.estimator is None) == (self.function is None):
            raise ValueError("set exactly one of trainer.estimator or trainer.function")
        return self


class SplitSpec(Value):
    """How the seeded holdout is cut."""

    holdout: FiniteFloat = Field(0.2, gt=0, lt=1, description="Share of rows held out.")
    seed: int = Field(42, ge=0, description="Seed of the split and of the estimator.")
    time_column: Name | None = Field(
        None, description="If set, the newest rows by this column form the holdout."
    )


class GateSpec(Value):
    """A quality gate the registry applies to every candidate."""

    metric: Name = Field(description="Metric the gate reads, e.g. accuracy or rmse.")
    min: FiniteFloat | None = Field(None, description="Candidate must be at least this.")
    max: FiniteFloat | None = Field(None, description="Candidate must be at most this.")
    beat_champion: FiniteFloat | None = Field(
        None,
        description="Candidate must beat the champion by at least this margin "
        "(higher is better unless the metric is a loss/error: rmse, mae, log_loss).",
    )

    @model_validator(mode="after")
    def _one_rule(self) -> GateSpec:
        if self.min is None and self.max is None and self.beat_champion is None:
            raise ValueError("a gate needs min, max or beat_champion")
        return self


class CanaryPolicy(Value):
    """How deployment rolls out a new version."""

    steps: list[FiniteFloat] = Field(
        default_factory=lambda: [5.0, 25.0, 50.0, 100.0],
        min_length=1,
        description="Traffic percentages, increasing, ending at 100.",
    )
    min_requests: int = Field(100, ge=0, description="Canary requests needed per step.")
    min_duration_s: int = Field(60, ge=0, description="Minimum seconds per step.")
    shadow: bool = Field(
        False,
        description="Mirror traffic to the challenger first: a shadow step (its answers never "
        "returned, min_requests paired predictions) judged before the live steps.",
    )
    shadow_min_agreement: FiniteFloat | None = Field(
        None,
        ge=0,
        le=1,
        description="Shadow fails below this agreement with the champion (classification: "
        "share of equal labels; regression: correlation); null: agreement is only reported.",
    )
    latency_budget_ms: FiniteFloat = Field(
        250.0,
        ge=0,
        description="Canary p95 latency within this budget never fails the canary; above it, "
        "latency fails only when also latency_max_increase slower with a large effect size.",
    )
    latency_max_increase: FiniteFloat | None = Field(
        None,
        ge=0,
        description="Relative p95 increase tolerated over the champion (0.5: +50%); null: the "
        "deployment service's LATENCY_ALLOWED_INCREASE.",
    )
    error_tolerance: FiniteFloat = Field(
        0.05,
        ge=0,
        description="Regression: relative MAE / RMSE increase tolerated; the canary fails when "
        "the whole interval of its increase lies above it.",
    )
    accuracy_tolerance: FiniteFloat = Field(
        0.02,
        ge=0,
        le=1,
        description="Classification: accuracy drop tolerated (absolute); the canary fails when "
        "the whole interval of its drop lies beyond it.",
    )
    brier_tolerance: FiniteFloat = Field(
        0.01,
        ge=0,
        le=1,
        description="Classification: Brier score increase tolerated (absolute), as above.",
    )
    shift_min_effect: FiniteFloat = Field(
        0.2,
        ge=0,
        le=1,
        description="Smallest prediction shift that can decide (class shares: total variation "
        "distance; scores: KS statistic); smaller significant shifts pass.",
    )


class DriftPolicy(Value):
    """How monitoring decides a model's inputs or predictions drifted."""

    method: Literal["driftline", "evidently"] = Field(
        "driftline", description="driftline (BH + effect floor) or Evidently-compatible rules."
    )
    alpha: FiniteFloat = Field(0.05, gt=0, lt=1, description="False discovery rate.")
    psi_threshold: FiniteFloat = Field(0.2, gt=0, description="Effect-size floor (PSI).")
    drift_share: FiniteFloat = Field(
        0.5, gt=0, le=1, description="Share of drifted features that makes the window drift."
    )
    window_size: int = Field(500, ge=10, description="Predictions per count window.")
    window_kind: Literal["count", "time"] = Field(
        "count", description="count: every window_size predictions; time: by prediction time."
    )
    window_duration_s: int = Field(
        900, ge=1, description="Time windows: seconds of prediction (event) time per window."
    )
    window_min_rows: int = Field(
        100, ge=10, description="Time windows: fewer rows merge into the next window."
    )


class MicroBatching(Value):
    """Concurrent requests for one version predicted together (``docs/deployment.md``)."""

    enabled: bool = Field(
        False,
        description="Queue concurrent requests' rows and predict them in one call; a request "
        "alone is never held back.",
    )
    max_batch_rows: int = Field(
        64, ge=1, le=10_000, description="A batch is predicted once it holds this many rows."
    )
    max_wait_ms: FiniteFloat = Field(
        2.0,
        ge=0,
        le=100,
        description="Longest a request waits for others (milliseconds) before its batch runs.",
    )


DEFAULT_MICRO_BATCHING = MicroBatching()


class ServingSpec(Value):
    """How deployment runs the model's versions."""

    runtime: Literal["sklearn", "onnx"] = Field(
        "sklearn",
        description="sklearn: the model as trained (skops or native booster); onnx: training "
        "also exports it to ONNX, checked on the holdout, and deployment serves that export "
        "with ONNX Runtime (scikit-learn, LightGBM and XGBoost models).",
    )
    micro_batching: MicroBatching = Field(
        default_factory=MicroBatching,
        description="Adaptive micro-batching of concurrent requests (off by default); a "
        "serving option only: changing it does not retrain.",
    )


DEFAULT_SERVING = ServingSpec()
WindowKind = Literal["all", "newest", "last", "days"]


class TrainingWindow(Value):
    """Which accepted versions of the dataset a run trains on, and how many rows at most."""

    versions: WindowKind = Field(
        "all",
        description="all: every accepted version; newest: only the newest; last: the newest "
        "`last` versions; days: versions accepted within `days` of the newest one.",
    )
    last: int = Field(3, ge=1, le=10_000, description="versions: last — how many versions.")
    days: FiniteFloat = Field(
        30.0, gt=0, le=36_500, description="versions: days — width of the time window in days."
    )
    dedupe: bool = Field(
        True, description="Drop repeated rows (equal in every column), keeping the newest copy."
    )
    max_rows: int = Field(
        1_000_000,
        ge=1,
        description="Row budget of the window after deduplication: the newest rows are kept "
        "(labelled production rows of a drift retrain come on top).",
    )


DEFAULT_WINDOW = TrainingWindow()


class ModelSpec(Value):
    """A model: data, target, trainer, evaluation, gates and rollout/monitoring policy."""

    model: Slug = Field(description="Model name (slug).")
    dataset: Slug = Field(description="Dataset the model trains on.")
    target: Name = Field(description="Target (label) column.")
    task: Task = Field(description="Learning task.")
    features: list[Name] | None = Field(
        None, description="Feature columns; default: every column but the target."
    )
    trainer: TrainerSpec = Field(description="Estimator or user function.")
    split: SplitSpec = Field(default_factory=SplitSpec, description="Holdout split.")
    window: TrainingWindow = Field(
        default_factory=TrainingWindow,
        description="What a run trains on; default: every accepted version, deduplicated, "
        "capped at a row budget.",
    )
    metrics: list[Name] | None = Field(
        None,
        description="Metrics to record; default by task (accuracy, f1, roc_auc, "
        "log_loss / rmse, mae, r2).",
    )
    gates: list[GateSpec] = Field(default_factory=list, description="Registry quality gates.")
    approval: Literal["automatic", "manual"] = Field(
        "automatic", description="manual: an approver (not the trainer) must approve."
    )
    canary: CanaryPolicy = Field(default_factory=CanaryPolicy, description="Rollout policy.")
    drift: DriftPolicy = Field(default_factory=DriftPolicy, description="Monitoring policy.")
    serving: ServingSpec = Field(
        default_factory=ServingSpec,
        description="How versions are served; default: the trained model (runtime sklearn).",
    )
    expectations: dict[Name, JsonValue] | None = Field(
        None, description="Data expectations for validation (docs/expectations.md)."
    )

    @field_validator("metrics")
    @classmethod
    def _known_metrics(cls, metrics: list[str] | None, info: ValidationInfo) -> list[str] | None:
        known = TASK_METRICS.get(info.data.get("task", ""), ())
        for index, name in enumerate(metrics or []):
            if known and name not in known:
                what = f"a {info.data['task']} metric"
                raise ValueError(_unknown_metric(f"metrics[{index}]", name, known, what))
        return metrics

    @field_validator("gates")
    @classmethod
    def _gates_read_recorded_metrics(
        cls, gates: list[GateSpec], info: ValidationInfo
    ) -> list[GateSpec]:
        """A gate on a metric training never records would reject every version it sees."""
        known = TASK_METRICS.get(info.data.get("task", ""), ())
        recorded = tuple(info.data.get("metrics") or known)
        for index, gate in enumerate(gates):
            if known and gate.metric not in recorded:
                what = (
                    "a metric this spec records"
                    if info.data.get("metrics")
                    else (f"a {info.data['task']} metric")
                )
                raise ValueError(
                    _unknown_metric(f"gates[{index}].metric", gate.metric, recorded, what)
                )
        return gates

    @model_validator(mode="after")
    def _target_not_a_feature(self) -> ModelSpec:
        if self.features is not None and self.target in self.features:
            raise ValueError(f"target {self.target!r} is listed among the features")
        return self


def spec_hash(spec: ModelSpec) -> str:
    """SHA-256 of the spec's canonical JSON (sorted keys, no whitespace); a default training
    window (or serving runtime) is left out, so specs written before they existed keep their
    hash."""
    document = spec.model_dump(mode="json")
    if spec.window == DEFAULT_WINDOW:
        del document["window"]
    if spec.serving == DEFAULT_SERVING:
        del document["serving"]
    elif spec.serving.micro_batching == DEFAULT_MICRO_BATCHING:
        del document["serving"]["micro_batching"]  # an onnx spec keeps its earlier hash
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()
