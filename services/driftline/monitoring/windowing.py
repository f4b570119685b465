"""When a model's open window closes: count windows by rows, time windows by prediction time.

Time windows are tumbling windows on a grid of ``duration`` aligned to the Unix epoch, in
*event* time (each prediction's ``time``), never wall-clock time, so a replay of the same
events closes the same windows. A window ``[start, end)`` closes once a prediction stamped
at or after ``end`` has been buffered (the watermark passed it). It is evaluated only with
at least ``min_rows`` rows; a window that closes with fewer is merged into the next one
(its end moves on by one grid cell, its start stays) until it has enough. Predictions
stamped before the open window's start (late arrivals) join the open window.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from driftline_contracts.modelspec import DriftPolicy

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
"""Origin of the time-window grid (PostgreSQL ``date_bin`` uses the same)."""
Cells = Sequence[tuple[datetime, int]]
"""Pending predictions per grid cell: (cell start, rows), oldest first."""


@dataclass(frozen=True)
class CountCut:
    """The next count window: the oldest ``rows`` pending predictions."""

    rows: int


@dataclass(frozen=True)
class TimeCut:
    """The next time window: every pending prediction stamped before ``end``."""

    start: datetime
    end: datetime
    rows: int


Cut = CountCut | TimeCut


def duration_of(policy: DriftPolicy) -> timedelta:
    """The time-window length of a drift policy."""
    return timedelta(seconds=policy.window_duration_s)


def cell_of(time: datetime, duration: timedelta) -> datetime:
    """Start of the grid cell holding ``time`` (as ``date_bin(duration, time, EPOCH)``)."""
    return EPOCH + ((time - EPOCH) // duration) * duration


def cells_of(times: Iterable[datetime], duration: timedelta) -> list[tuple[datetime, int]]:
    """Pending predictions per grid cell, oldest first (what the store computes in SQL)."""
    return sorted(Counter(cell_of(time, duration) for time in times).items())


def count_cut(pending: int, size: int) -> CountCut | None:
    """A full count window when ``size`` predictions are pending."""
    return CountCut(size) if pending >= size else None


def time_cut(
    cells: Cells, *, after: datetime | None, duration: timedelta, min_rows: int
) -> TimeCut | None:
    """The oldest closed time window with at least ``min_rows`` rows, or None.

    ``after`` is the end of the model's previous window: the next one starts there, or at the
    first cell holding a prediction if that is later (empty stretches are skipped).
    """
    if not cells:
        return None
    watermark_cell = cells[-1][0]  # the newest prediction lies in this cell
    start: datetime | None = None
    rows = 0
    for cell, count in cells:
        rows += count
        end = cell + duration
        if after is not None and end <= after:
            continue  # late rows of an evaluated stretch: carried into the open window
        if start is None:
            start = cell if after is None else max(after, cell)
        if end > watermark_cell:
            return None  # still open: no prediction at or after its end yet
        if rows >= min_rows:
            return TimeCut(start, end, rows)
    return None
