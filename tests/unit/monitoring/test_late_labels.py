"""Late labels re-judge evaluated windows' performance, under the episode's hysteresis."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest

from driftline.monitoring.late_labels import label_verdict, receive_labels
from driftline.monitoring.performance import PerformanceResult
from driftline.monitoring.workflow import log_predictions
from driftline_contracts.events.monitoring import DriftDetected, DriftResolved, GroundTruthReceived
from driftline_contracts.modelspec import DriftPolicy
from tests.unit.monitoring.fakes import FakeRefs, FakeWindows, deps_for, monitored
from tests.unit.monitoring.helpers import population
from tests.unit.monitoring.test_workflow import batch

T0 = datetime(2025, 3, 1, 10, 0, tzinfo=UTC)
WINDOW = 100
POLICY = DriftPolicy(window_size=WINDOW)


def _perf(labelled: int, *, judged: bool, dropped: bool = False) -> PerformanceResult:
    return PerformanceResult(metric="accuracy", value=0.5, training=0.9, labelled=labelled,
                             judged=judged, dropped=dropped)  # fmt: skip


@pytest.mark.parametrize(
    ("before", "after", "verdict"),
    [
        (None, _perf(40, judged=True, dropped=True), "dropped"),
        (_perf(5, judged=False), _perf(40, judged=True, dropped=True), "dropped"),
        (_perf(40, judged=True), _perf(60, judged=True, dropped=True), "dropped"),
        (_perf(40, judged=True, dropped=True), _perf(60, judged=True, dropped=True), "unchanged"),
        (_perf(5, judged=False), _perf(40, judged=True), "clean"),
        (None, _perf(40, judged=True), "clean"),
        (_perf(40, judged=True), _perf(60, judged=True), "unchanged"),
        (_perf(40, judged=True, dropped=True), _perf(60, judged=True), "unchanged"),
        (None, _perf(5, judged=False), "unchanged"),
    ],
)
def test_only_a_changed_verdict_counts(before, after, verdict) -> None:
    assert label_verdict(before, after) == verdict


class Loop:
    """Monitoring of one model: windows of clean traffic, labels arriving later."""

    def __init__(self, root: Path) -> None:
        self.refs, self.store = FakeRefs(monitored(POLICY)), FakeWindows()
        self.deps = deps_for(population(2000), root, min_labels=30, resolve_after=2)
        self.frames: list[pd.DataFrame] = []

    async def window(self) -> list[str]:
        """One more window of unshifted traffic; the transitions it caused."""
        n = len(self.frames)
        frame = population(WINDOW, seed=100 + n)
        self.frames.append(frame)
        at = T0 + timedelta(minutes=10 * n)
        out = await log_predictions(batch(frame, at, timedelta(seconds=1), f"w{n}"), self.refs,
                                    self.store, self.deps)  # fmt: skip
        return [type(e).__name__ for e in out]

    async def labels(self, n: int, accuracy: float) -> list[DriftDetected | DriftResolved]:
        """Labels for window ``n``'s requests, right on ``accuracy`` of them."""
        predictions = self.frames[n]["label"].tolist()
        right = int(accuracy * len(predictions))
        labels = {f"w{n}-{i}": p if i < right else 1 - p for i, p in enumerate(predictions)}
        event = GroundTruthReceived(model="churn", labels=labels, received_at=T0)
        return await receive_labels(event, self.refs, self.store, self.deps)  # type: ignore[return-value]

    def transitions(self) -> list[str]:
        return [w.transition for _, w in sorted(self.store.records.items())]


async def test_late_drop_opens_one_episode_and_labels_resolve_it(tmp_path: Path) -> None:
    loop = Loop(tmp_path)
    for _ in range(3):
        assert await loop.window() == []
    (detected,) = await loop.labels(1, accuracy=0.5)
    assert isinstance(detected, DriftDetected)
    assert detected.performance == {"accuracy": 0.5}
    assert detected.window.start == T0 + timedelta(minutes=10)
    assert detected.report is not None
    assert detected.report.uri.endswith("w000002.json")
    assert await loop.labels(2, accuracy=0.4) == []  # the episode is open: no second alarm
    assert await loop.labels(1, accuracy=0.4) == []  # same window again: nothing new
    # new windows without labels are no evidence that performance recovered
    assert await loop.window() == []
    assert await loop.window() == []
    assert loop.transitions()[-2:] == ["awaiting_labels", "awaiting_labels"]
    assert await loop.labels(0, accuracy=0.95) == []  # older than the episode: no evidence
    assert await loop.labels(3, accuracy=0.95) == []  # one clean labelled window
    (resolved,) = await loop.labels(4, accuracy=0.95)
    assert isinstance(resolved, DriftResolved)
    assert resolved.drift_id == detected.drift_id
    assert resolved.resolution == "data_recovered"
    assert await loop.store.open_episode("churn") is None


async def test_late_drop_during_a_feature_episode_holds_it(tmp_path: Path) -> None:
    loop = Loop(tmp_path)
    await loop.window()
    shifted = population(WINDOW, seed=7, shift=25.0)
    shifted["plan"] = "team"
    loop.frames.append(shifted)
    at = T0 + timedelta(minutes=10)
    out = await log_predictions(batch(shifted, at, timedelta(seconds=1), "w1"), loop.refs,
                                loop.store, loop.deps)  # fmt: skip
    assert [type(e).__name__ for e in out] == ["DriftDetected"]
    assert await loop.window() == []  # clean features: recovering, streak 1
    assert await loop.labels(2, accuracy=0.5) == []  # performance dropped: no second alarm
    episode = await loop.store.open_episode("churn")
    assert episode is not None
    assert (episode.performance, episode.clean_streak) == (True, 0)
    assert await loop.window() == []  # unlabelled window: the episode waits for labels
    assert await loop.store.open_episode("churn") is not None


async def test_replaying_the_same_events_gives_the_same_outcome(tmp_path: Path) -> None:
    outcomes = []
    for run in range(2):
        loop = Loop(tmp_path / str(run))
        for _ in range(4):
            await loop.window()
        events = [*await loop.labels(0, 0.5), *await loop.labels(2, 0.95),
                  *await loop.labels(3, 0.95)]  # fmt: skip
        outcomes.append(([(type(e).__name__, e.drift_id) for e in events], loop.transitions()))
    assert outcomes[0] == outcomes[1]
    assert [name for name, _ in outcomes[0][0]] == ["DriftDetected", "DriftResolved"]
