"""Drift-episode events carry the episode's id as correlation id; other events are untouched."""

from __future__ import annotations

from driftline.monitoring.handlers import as_episode
from driftline.runtime.uow import Correlated
from driftline_contracts.envelope import new_envelope
from driftline_contracts.events.monitoring import DriftResolved
from driftline_contracts.examples import example


def test_episode_events_are_correlated_by_their_drift_id() -> None:
    resolved = example(DriftResolved).model_copy(update={"drift_id": "drift-abc123"})
    other = object()
    wrapped = as_episode([resolved, other])  # type: ignore[list-item]
    assert wrapped[0] == Correlated(resolved, "drift-abc123")
    assert wrapped[1] is other
    assert as_episode(None) == []
    assert as_episode(resolved) == [Correlated(resolved, "drift-abc123")]


def test_an_explicit_correlation_id_overrides_the_causes() -> None:
    event = example(DriftResolved)
    cause = new_envelope(event, source="test", actor="service:test")
    caused = new_envelope(
        event, source="test", actor="service:test", cause=cause, correlation_id="drift-abc123"
    )
    assert (caused.correlationid, caused.causationid) == ("drift-abc123", cause.id)
