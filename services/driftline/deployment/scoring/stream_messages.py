"""Streaming scoring: requests from ``driftline.predict-requests``, answers to ``-responses``.

Each polled batch is parsed (unparseable records are dead-lettered with the reason), grouped
by model and routing key, served through the same path as HTTP (routing, feature checks,
prediction log, shadow mirror) with the caller's request ids, answered, and only then are
the offsets committed. A redelivered request id is answered again from the prediction log.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from pydantic import ValidationError

from driftline.deployment.errors import FeatureError, UnknownModelError
from driftline.deployment.serving.schemas import PredictionOut
from driftline.runtime.deadletter import RawRecord
from driftline_contracts.scoring import ScoringRequest, ScoringResponse


class RequestRefused(ValueError):  # noqa: N818 - reads as what happened
    """A streaming request that cannot be scored; the reason goes to its dead letter."""


@dataclass(frozen=True)
class Parsed:
    """A record and, if it parsed, its request."""

    record: RawRecord
    request: ScoringRequest | None
    error: Exception | None = None


def parse(record: RawRecord) -> Parsed:
    """The request a record carries, or the error saying why it is not one."""
    try:
        return Parsed(record, ScoringRequest.model_validate_json(record.value))
    except ValidationError as exc:
        errors = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or 'body'}: {e['msg']}" for e in exc.errors()
        )
        return Parsed(record, None, RequestRefused(f"malformed scoring request: {errors}"))


def groups(parsed: Sequence[Parsed]) -> dict[tuple[str, str | None], list[Parsed]]:
    """Valid requests by (model, routing key), first occurrence of each request id only."""
    seen: set[str] = set()
    found: dict[tuple[str, str | None], list[Parsed]] = {}
    for item in parsed:
        request = item.request
        if request is None or request.request_id in seen:
            continue
        seen.add(request.request_id)
        found.setdefault((request.model, request.routing_key), []).append(item)
    return found


def refusal(exc: Exception, index: int | None = None) -> RequestRefused:
    """Why serving refused a request (``index``: its row in a FeatureError)."""
    if isinstance(exc, FeatureError):
        mine = [p for p in exc.problems if index is None or p["loc"][2] == index]
        return RequestRefused("; ".join(str(p["msg"]) for p in mine) or str(exc))
    if isinstance(exc, UnknownModelError):
        return RequestRefused(str(exc))
    return RequestRefused(f"{type(exc).__name__}: {exc}")


def bad_rows(exc: FeatureError) -> set[int]:
    """Row indices a FeatureError names."""
    return {int(p["loc"][2]) for p in exc.problems}


def answer(request: ScoringRequest, served: PredictionOut) -> ScoringResponse:
    """The response record for a served row."""
    return ScoringResponse(
        request_id=request.request_id,
        model=request.model,
        model_version=served.model_version,
        variant=served.variant,
        prediction=served.prediction,
        probabilities=served.probabilities,
        error=served.error,
        served_at=datetime.now(UTC),
    )


def refused_answer(request: ScoringRequest, reason: Exception) -> ScoringResponse:
    """The error response for a request that was dead-lettered."""
    return ScoringResponse(
        request_id=request.request_id,
        model=request.model,
        error=str(reason)[:2000],
        served_at=datetime.now(UTC),
    )


def encode(response: ScoringResponse) -> bytes:
    """Compact JSON of a response."""
    return json.dumps(response.model_dump(mode="json"), separators=(",", ":")).encode()
