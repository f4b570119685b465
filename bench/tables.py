"""Measuring and Markdown tables shared by the benchmark suites (pure, no I/O)."""

from __future__ import annotations

import statistics
import timeit
from collections.abc import Callable, Mapping, Sequence


def measure(fn: Callable[[], object], *, repeat: int, min_time_s: float) -> float:
    """Best-of-``repeat`` seconds per call (timeit's autorange for the loop count)."""
    timer = timeit.Timer(fn)
    loops, _ = timer.autorange()
    loops = max(1, int(loops * min_time_s / 0.2))
    return min(timer.repeat(repeat=repeat, number=loops)) / loops


def timing_table(heading: str, timings: Mapping[str, float]) -> list[str]:
    """One table of seconds per call, each row compared with the first."""
    lines = [heading, "", "| implementation | µs/op | ops/s | vs first |", "|---|---:|---:|---:|"]
    first = next(iter(timings.values()))
    lines += [
        f"| {name} | {t * 1e6:.1f} | {1 / t:,.0f} | {t / first:.2f}x |"
        for name, t in timings.items()
    ]
    return [*lines, ""]


def spread(values: Sequence[float]) -> str:
    """``min to max`` of a series, with three significant digits."""
    return f"{min(values):,.3g} to {max(values):,.3g}"


def rate_table(heading: str, rates: Mapping[str, Sequence[float]], baseline: str) -> list[str]:
    """Operations per second per implementation (median and range of the repeats) vs ``baseline``.

    The last column is the median rate divided by the baseline's median rate.
    """
    base = statistics.median(rates[baseline])
    lines = [
        heading,
        "",
        f"| implementation | ops/s (median) | ops/s (range) | ms/op | vs {baseline} (rate) |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, values in rates.items():
        median = statistics.median(values)
        lines.append(
            f"| {name} | {median:,.0f} | {spread(values)} | {1000 / median:.2f} "
            f"| {median / base:.2f}x |"
        )
    return [*lines, ""]


def overhead_table(heading: str, rows: Mapping[str, Mapping[str, Sequence[float]]]) -> list[str]:
    """Seconds around a fit per implementation: total, bare fit and overhead (median, range).

    ``rows`` maps an implementation to its series ``total``, ``fit`` and ``overhead``.
    """
    lines = [
        heading,
        "",
        "| implementation | total s (median) | bare fit s | overhead s (median) "
        "| overhead s (range) | overhead / fit |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, series in rows.items():
        total = statistics.median(series["total"])
        fit = statistics.median(series["fit"])
        over = statistics.median(series["overhead"])
        lines.append(
            f"| {name} | {total:.3f} | {fit:.3f} | {over:.3f} | {spread(series['overhead'])} "
            f"| {over / fit:.1f}x |"
        )
    return [*lines, ""]
