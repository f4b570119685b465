"""When windows close: count windows by rows, time windows by prediction (event) time."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from driftline.monitoring.windowing import (
    EPOCH,
    CountCut,
    TimeCut,
    cell_of,
    cells_of,
    count_cut,
    time_cut,
)

MIN = timedelta(minutes=1)
D = timedelta(minutes=15)
T0 = datetime(2025, 3, 1, 10, 0, tzinfo=UTC)


def _at(*minutes: float) -> list[datetime]:
    return [T0 + m * MIN for m in minutes]


def _spread(start_min: float, end_min: float, rows: int) -> list[datetime]:
    step = (end_min - start_min) / max(rows, 1)
    return _at(*(start_min + i * step for i in range(rows)))


def _cut(times: list[datetime], *, after: datetime | None = None, min_rows: int = 10):
    return time_cut(cells_of(times, D), after=after, duration=D, min_rows=min_rows)


def test_count_window_closes_at_its_size() -> None:
    assert count_cut(499, 500) is None
    assert count_cut(500, 500) == CountCut(500)
    assert count_cut(1200, 500) == CountCut(500)  # one at a time, the oldest first


def test_grid_is_aligned_to_the_epoch_like_date_bin() -> None:
    assert cell_of(T0 + 7 * MIN, D) == T0
    assert cell_of(T0 + 15 * MIN, D) == T0 + D  # the end is exclusive
    assert cell_of(T0 - timedelta(microseconds=1), D) == T0 - D
    odd = timedelta(seconds=7)
    assert (cell_of(T0, odd) - EPOCH) % odd == timedelta(0)


def test_time_window_stays_open_until_a_later_prediction_passes_its_end() -> None:
    rows = _spread(0, 14.9, 50)
    assert _cut(rows) is None  # 50 rows, but nothing stamped at or after 10:15 yet
    assert _cut([*rows, *_at(14.99)]) is None
    cut = _cut([*rows, *_at(15)])
    assert cut == TimeCut(T0, T0 + D, 50)  # the row at 10:15 belongs to the next window


def test_wall_clock_plays_no_part_replays_close_the_same_windows() -> None:
    times = _spread(0, 47, 300)
    shuffled = random.Random(3).sample(times, len(times))
    first = sum(time < T0 + D for time in times)
    assert _cut(times) == _cut(shuffled) == TimeCut(T0, T0 + D, first)


def test_too_few_rows_merge_into_the_next_window() -> None:
    sparse = [*_at(1, 2, 3), *_spread(15, 29, 20), *_at(31)]
    cut = _cut(sparse, min_rows=10)
    assert cut == TimeCut(T0, T0 + 2 * D, 23)  # [10:00, 10:30): 3 + 20 rows, evaluated once
    assert _cut([*_at(1, 2, 3), *_at(16)], min_rows=10) is None  # 10:15 window still open
    assert _cut([*_at(1, 2, 3), *_at(16, 31)], min_rows=10) is None  # 4 rows: keep merging


def test_a_gap_in_traffic_is_skipped_not_spanned() -> None:
    after = T0 + D  # the previous window ended at 10:15
    rows = [*_spread(120, 134, 30), *_at(135)]  # traffic resumes at 12:00
    cut = _cut(rows, after=after)
    assert cut == TimeCut(T0 + 8 * D, T0 + 9 * D, 30)


def test_late_rows_join_the_open_window() -> None:
    after = T0 + D
    late = _at(5, 6)  # stamped inside the window already evaluated
    rows = [*late, *_spread(15, 29, 20), *_at(30)]
    cut = _cut(rows, after=after)
    assert cut == TimeCut(after, T0 + 2 * D, 22)


def test_after_a_count_window_the_time_window_starts_where_it_ended() -> None:
    after = T0 + timedelta(minutes=7, seconds=30)  # a count window's end is not on the grid
    cut = _cut([*_spread(8, 14, 12), *_at(15)], after=after)
    assert cut == TimeCut(after, T0 + D, 12)


@pytest.mark.parametrize("rows", [0, 1, 9])
def test_nothing_closes_without_enough_rows(rows: int) -> None:
    # the lone row at 11:40 opens a window that has not closed: nothing to evaluate yet
    assert _cut([*_spread(0, 14, rows), *_at(100)], min_rows=10) is None
