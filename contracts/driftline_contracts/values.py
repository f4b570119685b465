"""Small frozen value objects shared by the events: references, reasons, windows, results."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints, model_validator

SLUG_PATTERN = r"^[a-z0-9][a-z0-9._-]{0,127}$"
SHA256_PATTERN = r"^[0-9a-f]{64}$"

Slug = Annotated[str, StringConstraints(pattern=SLUG_PATTERN)]
"""Model or dataset name: lowercase letters, digits, '.', '_' or '-', at most 128 characters."""
Sha256 = Annotated[str, StringConstraints(pattern=SHA256_PATTERN)]
"""SHA-256 digest as 64 lowercase hex characters."""
Uri = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9+.-]*://\S+$", max_length=2048)]
"""Absolute URI of an object, e.g. ``s3://bucket/key`` or ``file:///path``."""
Actor = Annotated[
    str, StringConstraints(pattern=r"^(user|service|pipeline|system):[A-Za-z0-9@._/-]{1,127}$")
]
"""Who or what acted: ``user:alice``, ``service:validation``, ``pipeline:nightly-etl``."""
Identifier = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$")]
"""Opaque identifier (run id, request id, batch id): at most 128 safe characters."""
Name = Annotated[str, StringConstraints(min_length=1, max_length=128)]
"""Column, feature, metric or parameter name."""
Code = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_.]{0,63}$")]
"""Machine-readable reason code, e.g. ``missing_column`` or ``gate.min_accuracy``."""
ShortText = Annotated[str, StringConstraints(max_length=256)]
"""Free text of at most 256 characters."""
Text = Annotated[str, StringConstraints(max_length=2000)]
"""Free text of at most 2,000 characters."""
FiniteFloat = Annotated[float, Field(allow_inf_nan=False)]
"""A float that is neither NaN nor infinite."""
Scalar = bool | int | FiniteFloat | ShortText | None
"""A JSON scalar: feature values, predictions, labels, hyper-parameters."""
Metrics = Annotated[dict[Name, FiniteFloat], Field(max_length=200)]
"""Metric name to finite value, e.g. ``{"accuracy": 0.93, "f1": 0.91}``."""

FROZEN = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)


class Value(BaseModel):
    """Base of the value objects: frozen, closed, finite."""

    model_config = FROZEN


class DatasetRef(Value):
    """One immutable version of a dataset stored as an object (CSV or Parquet)."""

    name: Slug = Field(description="Dataset name (slug); the key of data events.")
    version: int | None = Field(
        None, ge=1, description="Accepted version number; null until validation assigns one."
    )
    uri: Uri = Field(description="Where the data lives, e.g. s3://bucket/datasets/x.parquet.")
    sha256: Sha256 = Field(description="SHA-256 of the object's bytes (64 lowercase hex).")
    format: Literal["csv", "parquet"] = Field(description="File format of the object.")
    rows: int | None = Field(None, ge=0, description="Number of rows, if known.")
    size_bytes: int | None = Field(None, ge=0, description="Size of the object in bytes, if known.")


class ArtifactRef(Value):
    """An object in the artifact store: a model, a profile, a report or a prediction batch."""

    uri: Uri = Field(description="Where the artifact lives, e.g. s3://driftline/models/x.skops.")
    sha256: Sha256 = Field(description="SHA-256 of the artifact's bytes; verified before use.")
    media_type: Annotated[
        str, StringConstraints(pattern=r"^[a-z0-9.+-]+/[a-z0-9.+-]+$", max_length=128)
    ] = Field(description="Media type, e.g. application/json or application/vnd.skops.")
    size_bytes: int = Field(ge=0, description="Size of the artifact in bytes.")


class ModelRef(Value):
    """One registered version of a model."""

    name: Slug = Field(description="Model name (slug); the key of model events.")
    version: int = Field(ge=1, description="Registry version number, starting at 1.")


class Reason(Value):
    """Why something was rejected, failed or skipped, in a form machines and people can read."""

    code: Code = Field(description="Machine-readable code, e.g. missing_column, null_rate.")
    message: Text = Field(description="Human-readable explanation.")
    field: Name | None = Field(None, description="Column, feature or field concerned, if any.")


class TimeWindow(Value):
    """A half-open time interval [start, end)."""

    start: AwareDatetime = Field(description="Inclusive start (timezone-aware).")
    end: AwareDatetime = Field(description="Exclusive end (timezone-aware), after start.")

    @model_validator(mode="after")
    def _ordered(self) -> TimeWindow:
        if self.end <= self.start:
            raise ValueError("window end must be after its start")
        return self


class FeatureDrift(Value):
    """Drift test result for one feature (or for the predictions) over a window."""

    feature: Name = Field(description="Feature name, or 'prediction' for prediction drift.")
    test: Literal["psi", "ks", "chi2", "jensen_shannon", "wasserstein"] = Field(
        description="Statistical test or distance used."
    )
    statistic: FiniteFloat = Field(description="Test statistic or distance.")
    p_value: FiniteFloat | None = Field(
        None, ge=0, le=1, description="p-value for hypothesis tests; null for distances."
    )
    threshold: FiniteFloat = Field(description="Threshold the statistic (or p-value) is held to.")
    drifted: bool = Field(description="Whether this feature counts as drifted.")


class GateResult(Value):
    """Outcome of one registry quality gate for a candidate model."""

    gate: Name = Field(description="Gate name from the model spec, e.g. min_accuracy.")
    metric: Name = Field(description="Metric the gate reads.")
    kind: Literal["minimum", "maximum", "beat_champion"] = Field(
        description="minimum/maximum: absolute bound; beat_champion: vs the current champion."
    )
    threshold: FiniteFloat | None = Field(None, description="Bound or required margin.")
    observed: FiniteFloat = Field(description="Candidate's value of the metric.")
    champion: FiniteFloat | None = Field(None, description="Champion's value, for beat_champion.")
    passed: bool = Field(description="Whether the candidate passed this gate.")
    interval_low: FiniteFloat | None = Field(
        None, description="beat_champion: low end of the interval of candidate - champion."
    )
    interval_high: FiniteFloat | None = Field(
        None, description="beat_champion: high end of the interval of candidate - champion."
    )
    rows: int | None = Field(
        None, ge=0, description="beat_champion: holdout rows both models were scored on."
    )


class MetricResult(Value):
    """Canary judge's comparison of canary and champion on one metric, same traffic."""

    metric: Name = Field(description="Metric, e.g. error_rate, latency_p95_ms, accuracy.")
    champion: FiniteFloat | None = Field(description="Champion's value; null if not measured.")
    canary: FiniteFloat | None = Field(description="Canary's value; null if not measured.")
    p_value: FiniteFloat | None = Field(
        None, ge=0, le=1, description="p-value of the test that they differ, if any."
    )
    samples: int = Field(ge=0, description="Observations behind the comparison.")
    passed: bool | None = Field(description="True pass, False fail, null inconclusive.")
    delta_low: FiniteFloat | None = Field(
        None, description="Low end of the interval of the difference (canary vs champion)."
    )
    delta_high: FiniteFloat | None = Field(
        None, description="High end of the interval of the difference (canary vs champion)."
    )
    effect: FiniteFloat | None = Field(
        None, description="Effect size the decision used, e.g. P(canary slower), KS D."
    )
    informational: bool = Field(
        False, description="Reported only: this metric did not count towards the verdict."
    )


class CanaryStep(Value):
    """One step of a canary rollout plan."""

    traffic_percent: FiniteFloat = Field(
        gt=0, le=100, description="Share of traffic, percent (mirrored share on a shadow step)."
    )
    min_duration_s: int = Field(ge=0, description="Minimum seconds spent on this step.")
    min_requests: int = Field(ge=0, description="Minimum canary requests before judging.")
    shadow: bool = Field(
        False,
        description="Shadow step: the canary scores mirrored requests but serves none; its "
        "answers are never returned and it is judged on the paired predictions.",
    )
