"""Domain errors of the deployment service."""

from __future__ import annotations

from typing import TypedDict

from driftline.runtime.errors import TransientError


class ModelLoadRefused(Exception):  # noqa: N818 - reads as what happened
    """An artifact is not a skops file of trusted types; it is never deserialized."""


class UnknownModelError(LookupError):
    """No servable version of the model exists here."""

    def __init__(self, model: str) -> None:
        super().__init__(f"model {model!r} has no servable version")
        self.model = model


class FeatureProblem(TypedDict):
    """One wrong feature of one row, in FastAPI's 422 shape."""

    loc: list[str | int]
    """``["body", FIELD, ROW, FEATURE]``: the row is the instance's index in the request."""
    msg: str
    type: str


class FeatureError(ValueError):
    """Instances do not carry exactly the features the model was trained on."""

    def __init__(self, problems: list[FeatureProblem]) -> None:
        super().__init__("; ".join(str(p["msg"]) for p in problems))
        self.problems = problems


class UnknownRequestIdsError(LookupError):
    """Feedback named request ids this model never served."""

    def __init__(self, request_ids: list[str]) -> None:
        super().__init__(f"unknown request ids: {', '.join(request_ids)}")
        self.request_ids = request_ids


class NoChallengerError(LookupError):
    """The model has no running challenger (or not the one named) to act on."""


class UnknownVersionError(LookupError):
    """The version never loaded here: not approved, or refused by the safe loader."""


class NoShadowError(LookupError):
    """The model never ran a shadow step."""


class PredictionNotLoggedError(TransientError):
    """The prediction log (PostgreSQL or Kafka) is unavailable, so the request's answer is
    withheld: an answer is only given once its rows are durable. Safe to retry (a retry gets
    new request ids; the rows of this attempt are in the log at most once)."""
