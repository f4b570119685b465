"""Reference frames and windows for the monitoring unit tests."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from driftline.monitoring.evaluation import Reference, WindowData
from driftline.monitoring.records import Episode
from driftline.stats.profile import profile_frame

SHA = "0" * 64


def population(rows: int, seed: int = 0, shift: float = 0.0) -> pd.DataFrame:
    """Two numeric features, one categorical, and a binary target."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "age": rng.normal(40 + shift, 10, rows),
            "income": rng.normal(50_000, 8_000, rows),
            "plan": rng.choice(["basic", "pro", "team"], rows, p=[0.5, 0.3, 0.2]),
            "label": rng.integers(0, 2, rows),
        }
    )


def reference_of(frame: pd.DataFrame, metrics: dict[str, float] | None = None) -> Reference:
    """The frame's profile as a classification reference on ``label``."""
    return Reference(profile_frame(frame, sha256=SHA), "label", "classification", metrics or {})


def window_of(frame: pd.DataFrame, labels: list | None = None) -> WindowData:
    """A window whose predictions are the frame's labels."""
    predictions = frame["label"].tolist()
    labelled = list(zip(predictions, labels, strict=True)) if labels is not None else []
    return WindowData(frame.drop(columns="label"), predictions, labelled)


class FakeEpisodes:
    """Drift episodes in memory: (episode, resolution) by drift id."""

    def __init__(self) -> None:
        self.episodes: dict[str, tuple[Episode, str | None]] = {}

    async def open_episode(self, model: str) -> Episode | None:
        return next((e for e, r in self.episodes.values() if r is None), None)

    async def open(self, model: str, episode: Episode) -> None:
        assert await self.open_episode(model) is None  # the database's unique open episode
        self.episodes[episode.drift_id] = (episode, None)

    async def update(
        self, drift_id: str, clean_streak: int, *, resolution=None, performance=None
    ) -> None:
        episode, _ = self.episodes[drift_id]
        episode = replace(episode, clean_streak=clean_streak)
        if performance is not None:
            episode = replace(episode, performance=performance)
        self.episodes[drift_id] = (episode, resolution)
