"""Drift episodes: one DriftDetected per episode, DriftResolved after N clean windows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from driftline.monitoring.episodes import Evaluated, apply_window, replace_model
from driftline.monitoring.evaluation import Tolerances, WindowResult, evaluate_window
from driftline.monitoring.hysteresis import advance
from driftline_contracts.events.monitoring import DriftDetected, DriftResolved
from driftline_contracts.modelspec import DriftPolicy
from driftline_contracts.values import ArtifactRef, ModelRef, TimeWindow
from tests.unit.monitoring.helpers import FakeEpisodes, population, reference_of, window_of

MODEL = ModelRef(name="churn", version=3)
REPORT = ArtifactRef(
    uri="s3://driftline/reports/drift/churn/w000001.json",
    sha256="a" * 64, media_type="application/json", size_bytes=10,
)  # fmt: skip


def _results() -> dict[bool, WindowResult]:
    reference = reference_of(population(2000, seed=0))
    policy = DriftPolicy(window_size=300)
    calm = evaluate_window(reference, window_of(population(300, seed=1)), policy, Tolerances())
    moved = population(300, seed=2, shift=20.0)
    moved["plan"] = "team"
    drifted = evaluate_window(reference, window_of(moved), policy, Tolerances())
    assert drifted.drifted
    assert not calm.drifted
    return {True: drifted, False: calm}


def test_state_machine() -> None:
    assert (
        advance(is_open=False, clean_streak=0, drifted=False, resolve_after=2).transition == "quiet"
    )
    assert (
        advance(is_open=False, clean_streak=0, drifted=True, resolve_after=2).transition
        == "detected"
    )
    assert advance(is_open=True, clean_streak=1, drifted=True, resolve_after=2).clean_streak == 0
    step = advance(is_open=True, clean_streak=0, drifted=False, resolve_after=2)
    assert (step.transition, step.clean_streak, step.is_open) == ("recovering", 1, True)
    assert (
        advance(is_open=True, clean_streak=1, drifted=False, resolve_after=2).transition
        == "resolved"
    )


async def test_one_detection_per_episode_and_resolution_after_two_clean_windows() -> None:
    results, store, emitted = _results(), FakeEpisodes(), []
    start = datetime(2025, 1, 1, tzinfo=UTC)
    pattern = [False, True, True, False, True, False, False, False, True]
    for i, drifted in enumerate(pattern):
        span = TimeWindow(start=start + timedelta(hours=i), end=start + timedelta(hours=i + 1))
        evaluated = Evaluated(MODEL, f"w{i:06d}", span, results[drifted], None, REPORT)
        _, _, event = await apply_window(store, evaluated, resolve_after=2)
        emitted.append(type(event).__name__ if event else None)
    assert emitted == [
        None,
        "DriftDetected",
        None,
        None,
        None,
        None,
        "DriftResolved",
        None,
        "DriftDetected",
    ]


async def test_detected_event_fields_are_filled() -> None:
    store = FakeEpisodes()
    span = TimeWindow(start=datetime(2025, 1, 1, tzinfo=UTC), end=datetime(2025, 1, 2, tzinfo=UTC))
    evaluated = Evaluated(MODEL, "w000001", span, _results()[True], None, REPORT)
    _, drift_id, event = await apply_window(store, evaluated, resolve_after=2)
    assert isinstance(event, DriftDetected)
    assert event.drift_id == drift_id
    assert event.window == span
    assert event.report == REPORT
    assert event.severity in ("high", "critical")
    assert {f.feature for f in event.features} == {"age", "income", "plan", "prediction"}
    assert event.performance == {}  # no labels in the window


async def test_a_new_champion_ends_the_episode_as_model_replaced() -> None:
    store = FakeEpisodes()
    span = TimeWindow(start=datetime(2025, 1, 1, tzinfo=UTC), end=datetime(2025, 1, 2, tzinfo=UTC))
    await apply_window(store, Evaluated(MODEL, "w1", span, _results()[True], None, REPORT), 2)
    assert await replace_model(store, MODEL, span) is None  # same version: still open
    resolved = await replace_model(store, ModelRef(name="churn", version=4), span)
    assert isinstance(resolved, DriftResolved)
    assert resolved.resolution == "model_replaced"
    assert await store.open_episode("churn") is None
