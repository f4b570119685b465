"""Streaming scoring records, the new deployment events, and the shadow canary option."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from driftline_contracts import topics
from driftline_contracts.events import BatchScoringRequested, PredictionRow
from driftline_contracts.examples import example
from driftline_contracts.modelspec import CanaryPolicy
from driftline_contracts.scoring import ScoringRequest


def test_a_scoring_request_needs_an_id_a_model_and_scalar_features() -> None:
    request = ScoringRequest.model_validate_json(
        '{"request_id": "r-1", "model": "churn-clf", "features": {"plan": "pro", "age": 3}}'
    )
    assert request.routing_key is None
    with pytest.raises(ValidationError):
        ScoringRequest(request_id="r-1", model="churn-clf", features={"x": [1, 2]})  # type: ignore[dict-item]
    with pytest.raises(ValidationError):
        ScoringRequest(request_id="r 1", model="churn-clf", features={})


def test_scoring_topics_and_their_dead_letters_are_created_with_the_rest() -> None:
    every = topics.all_topics()
    assert {topics.PREDICT_REQUESTS, topics.PREDICT_RESPONSES} <= set(every)
    assert topics.dlq(topics.PREDICT_REQUESTS) in every
    assert len(every) == len(set(every))


def test_batch_scoring_defaults_to_the_champion() -> None:
    assert example(BatchScoringRequested).variant == "champion"  # type: ignore[attr-defined]


def test_shadow_is_a_canary_policy_option_with_an_optional_agreement_floor() -> None:
    policy = CanaryPolicy.model_validate({"shadow": True, "shadow_min_agreement": 0.9})
    assert (policy.shadow, policy.shadow_min_agreement) == (True, 0.9)
    assert CanaryPolicy().shadow_min_agreement is None
    with pytest.raises(ValidationError):
        CanaryPolicy(shadow_min_agreement=1.5)


def test_a_prediction_row_may_be_a_shadow_answer() -> None:
    row = example_row().model_copy(update={"variant": "shadow"})
    assert PredictionRow.model_validate(row.model_dump()).variant == "shadow"


def example_row() -> PredictionRow:
    """The catalog's sample row."""
    from driftline_contracts.examples import ROW

    return ROW
