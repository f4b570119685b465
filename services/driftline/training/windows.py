"""Training windows (pure): which accepted versions a run reads, and the rows it keeps.

The spec's ``window`` picks versions (all, the newest, the last N, or those accepted within
some days of the newest); their frames are concatenated oldest first, repeated rows are
dropped keeping the newest copy, and the newest ``max_rows`` rows are kept.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from driftline_contracts.modelspec import TrainingWindow
from driftline_contracts.values import DatasetRef

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class AcceptedVersion:
    """An accepted dataset version as training remembers it."""

    ref: DatasetRef
    accepted_at: datetime | None = None
    """When validation accepted it (None: recorded before training kept the time)."""


def versions_in_window(
    accepted: Sequence[AcceptedVersion], newest: DatasetRef, window: TrainingWindow
) -> list[DatasetRef]:
    """The versions ``window`` selects up to ``newest`` (never after it), oldest first;
    ``newest`` is always among them."""
    top = newest.version or 0
    known = {v.ref.version or 0: v for v in accepted if 0 < (v.ref.version or 0) < top}
    older = [known[number] for number in sorted(known)]
    if window.versions == "newest":
        older = []
    elif window.versions == "last":
        older = older[len(older) - (window.last - 1) :] if window.last > 1 else []
    elif window.versions == "days":
        older = _within_days(older, _accepted_at(accepted, newest), window.days)
    return [v.ref for v in older] + [newest]


def _accepted_at(accepted: Sequence[AcceptedVersion], newest: DatasetRef) -> datetime | None:
    found = [v.accepted_at for v in accepted if v.ref.version == newest.version]
    return found[0] if found else None


def _within_days(
    older: list[AcceptedVersion], newest_at: datetime | None, days: float
) -> list[AcceptedVersion]:
    """Versions accepted at most ``days`` before the newest; without times, none but it."""
    if newest_at is None:
        return []
    start = newest_at - timedelta(days=days)
    return [v for v in older if v.accepted_at is not None and v.accepted_at >= start]


def window_frame(frames: Sequence[pd.DataFrame], window: TrainingWindow) -> pd.DataFrame:
    """The versions' rows (oldest first) concatenated, deduplicated and capped per ``window``;
    a column missing from some versions is left empty there (imputed like any gap)."""
    import pandas as pd  # the service's start-up (it imports AcceptedVersion) needs none

    frames = [f for f in frames if not f.empty] or list(frames[-1:])
    frame = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    if window.dedupe and len(frame):
        repeated = pd.util.hash_pandas_object(frame, index=False).duplicated(keep="last")
        frame = frame[~repeated.to_numpy()]
    if len(frame) > window.max_rows:
        frame = frame.iloc[len(frame) - window.max_rows :]
    return frame.reset_index(drop=True)
