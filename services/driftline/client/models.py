"""The client's view of the serving API's answers (kept here so the client does not depend on
the deployment service's internals; unknown fields are kept, not refused)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from driftline_contracts.values import Scalar


class Prediction(BaseModel):
    """One row's answer."""

    model_config = ConfigDict(extra="allow")

    request_id: str = Field(description="Id to send the true label for (feedback).")
    prediction: Scalar = Field(None, description="Predicted label or value; None on error.")
    probabilities: dict[str, float] | None = Field(None, description="Class probabilities.")
    model_version: int | None = Field(None, description="Version that served the row.")
    variant: Literal["champion", "canary"] | None = Field(None, description="Who served.")
    error: str | None = Field(None, description="Why the model failed on this row.")


class Predictions(BaseModel):
    """Answers in request order."""

    model_config = ConfigDict(extra="allow")

    model: str = Field(description="Model asked.")
    predictions: list[Prediction] = Field(description="One per row sent.")


class FeedbackAccepted(BaseModel):
    """What the serving service accepted."""

    model_config = ConfigDict(extra="allow")

    model: str = Field(description="Model the labels are for.")
    accepted: int = Field(description="Labels accepted.")
    event_id: str = Field(description="The GroundTruthReceived event carrying them.")
