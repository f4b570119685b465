"""Streaming scoring records: plain JSON on ``driftline.predict-requests`` / ``-responses``.

Not events (no CloudEvents headers): a client produces a ``ScoringRequest`` keyed by model
name and reads the ``ScoringResponse`` with the same ``request_id`` from the response topic.
A request that cannot be scored (not JSON, unknown model, wrong features) goes to
``driftline.predict-requests.dlq`` with a ``dlq-reason`` header, and when it carried a
request id an error response is produced too.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AwareDatetime, Field

from driftline_contracts.values import FiniteFloat, Identifier, Name, Scalar, Slug, Value


class ScoringRequest(Value):
    """One row to score."""

    request_id: Identifier = Field(description="Caller's id; the response and feedback use it.")
    model: Slug = Field(description="Model to score with.")
    features: Annotated[dict[Name, Scalar], Field(max_length=500)] = Field(
        description="Feature name to value, exactly the model's features."
    )
    routing_key: Annotated[str, Field(min_length=1, max_length=256)] | None = Field(
        None, description="Same key, same variant during a canary."
    )


class ScoringResponse(Value):
    """The answer to one ``ScoringRequest``."""

    request_id: Identifier = Field(description="The request's id.")
    model: Slug = Field(description="Model asked.")
    model_version: int | None = Field(None, description="Version that served; null on error.")
    variant: Literal["champion", "canary"] | None = Field(None, description="Who served.")
    prediction: Scalar = Field(None, description="Predicted label or value.")
    probabilities: dict[str, FiniteFloat] | None = Field(None, description="Class probabilities.")
    error: Annotated[str, Field(max_length=2000)] | None = Field(
        None, description="Why it was not scored (or why the model failed on the row)."
    )
    served_at: AwareDatetime = Field(description="When the answer was produced.")
