"""Request and response bodies of the serving API (``/v1``)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from driftline_contracts.values import Identifier, Name, Scalar

Instance = Annotated[dict[Name, Scalar], Field(max_length=500)]


class PredictRequest(BaseModel):
    """One or many rows to score, optionally with a sticky routing key."""

    model_config = ConfigDict(extra="forbid")

    instances: list[Instance] = Field(min_length=1, description="Rows: feature name to value.")
    routing_key: Annotated[str, Field(min_length=1, max_length=256)] | None = Field(
        None, description="Same key, same variant during a canary (e.g. a user id)."
    )


class PredictionOut(BaseModel):
    """One row's answer."""

    request_id: str = Field(description="Id to send ground truth for (feedback).")
    prediction: Scalar = Field(description="Predicted label or value; null when error is set.")
    probabilities: dict[str, float] | None = Field(
        None, description="Class probabilities, when the model gives them."
    )
    model_version: int = Field(description="Version that served the row.")
    variant: Literal["champion", "canary"] = Field(description="Champion or canary.")
    error: str | None = Field(None, description="Why the model failed on this row, if it did.")
    warnings: list[dict[str, str]] | None = Field(
        None,
        description="Values of this row the serving version never saw in training (feature, "
        "code: unseen_category, case_variant, null or not_a_string, msg); the row was served. "
        "Null when no row of the request has any.",
    )


class PredictResponse(BaseModel):
    """Answers in request order."""

    model: str
    predictions: list[PredictionOut]


class FeedbackRequest(BaseModel):
    """True labels by request id: ``labels`` (batch) or ``request_id`` + ``label`` (single)."""

    model_config = ConfigDict(extra="forbid")

    labels: Annotated[dict[Identifier, Scalar], Field(max_length=10_000)] = Field(
        default_factory=dict, description="Label per request id."
    )
    request_id: Identifier | None = Field(None, description="A single request id.")
    label: Scalar = Field(None, description="Its label.")

    @model_validator(mode="after")
    def _some_labels(self) -> FeedbackRequest:
        if self.request_id is not None:
            self.labels[self.request_id] = self.label
        if not self.labels:
            raise ValueError("send labels: {request_id: label} or request_id and label")
        return self


class FeedbackResponse(BaseModel):
    """What was accepted."""

    model: str
    accepted: int
    event_id: str
