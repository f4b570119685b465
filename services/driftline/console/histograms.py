"""Distribution plots as SVG: overlaid histograms over shared bins (numbers) and paired bars
per labelled category; the series' colours come from the page's CSS, as in :mod:`charts`."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from driftline.console.charts import (
    BOTTOM,
    HEIGHT,
    LEFT,
    RIGHT,
    SERIES_CLASSES,
    TOP,
    WIDTH,
    _fmt,
    _frame,
    _x_labels,
    _y_axis,
)

Values = tuple[str, Sequence[float]]
"""One series: its name (e.g. reference, current) and a value per bin or category."""
SLOT = 26
"""Pixels per category and series before a bar chart widens past the page's chart width."""
OTHER = "__other__"
CHAR_PX = 6.5
"""Rough width of one tick-label character (11 px sans-serif)."""
SLANTED_CHARS = 11
"""Longest slanted category label that clears the axis title below it."""


def _empty(title: str) -> str:
    return _frame(title, ['<text class="chart-tick" x="56" y="60">no data yet</text>'])


def _legend(series: Sequence[Values], width: int) -> list[str]:
    parts = []
    for i, (name, _) in enumerate(series):
        y = 12 + 14 * i
        cls = f"chart-series-{i % SERIES_CLASSES}"
        parts.append(
            f'<rect class="chart-swatch {cls}" x="{width - RIGHT - 10}" y="{y - 8}" '
            f'width="10" height="10"/><text class="chart-legend" x="{width - RIGHT - 14}" '
            f'y="{y + 1}" text-anchor="end">{escape(name)}</text>'
        )
    return parts


def _top(series: Sequence[Values]) -> float:
    return max([0.0, *(v for _, values in series for v in values)])


def histogram_chart(
    title: str, edges: Sequence[float], series: Sequence[Values], *, x_label: str, y_label: str
) -> str:
    """Series over the same bins, drawn translucent on top of each other; edges on the x axis."""
    bins = len(edges) - 1
    if bins < 1 or not series:
        return _empty(title)
    parts, lo, hi = _y_axis(0.0, _top(series), y_label)
    plot_w, base = WIDTH - LEFT - RIGHT, HEIGHT - BOTTOM
    step = plot_w / bins
    for i, (name, values) in enumerate(series):
        cls = f"chart-hist chart-series-{i % SERIES_CLASSES}"
        for b, value in enumerate(values[:bins]):
            y = TOP + (base - TOP) * (1 - (value - lo) / (hi - lo))
            parts.append(
                f'<rect class="{cls}" x="{LEFT + b * step:.1f}" y="{y:.1f}" '
                f'width="{step:.1f}" height="{base - y:.1f}"><title>{escape(name)} '
                f"{_fmt(edges[b])} to {_fmt(edges[b + 1])}: {_fmt(value)}</title></rect>"
            )
    xs = [LEFT + i * step for i in range(bins + 1)]
    parts += _x_labels([_fmt(e) for e in edges], xs, x_label, rotate=False)
    return _frame(title, [*parts, *_legend(series, WIDTH)])


def category_label(category: str) -> str:
    """How a category reads under the axis (the profile's catch-all becomes ``(other)``)."""
    return "(other)" if category == OTHER else category


def paired_bar_chart(
    title: str, categories: Sequence[str], series: Sequence[Values], *, x_label: str, y_label: str
) -> str:
    """Per category, one bar per series side by side; every category labelled on the axis."""
    if not categories or not series:
        return _empty(title)
    width = max(WIDTH, LEFT + RIGHT + len(categories) * SLOT * len(series))
    parts, lo, hi = _y_axis(0.0, _top(series), y_label, width=width)
    base = HEIGHT - BOTTOM
    slot = (width - LEFT - RIGHT) / len(categories)
    bar = slot * 0.8 / len(series)
    centres = [LEFT + slot * (c + 0.5) for c in range(len(categories))]
    for i, (name, values) in enumerate(series):
        cls = f"chart-bar chart-series-{i % SERIES_CLASSES}"
        for category, centre, value in zip(categories, centres, values, strict=False):
            y = TOP + (base - TOP) * (1 - (value - lo) / (hi - lo))
            x = centre - slot * 0.4 + i * bar
            parts.append(
                f'<rect class="{cls}" x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" '
                f'height="{base - y:.1f}"><title>{escape(name)} '
                f"{escape(category_label(category))}: {_fmt(value)}</title></rect>"
            )
    labels = [category_label(c) for c in categories]
    # Upright while every label fits its slot; slanted ones are cut short enough to stay clear
    # of the axis title (each bar's tooltip has the full category).
    rotate = max(len(label) for label in labels) * CHAR_PX > slot * 0.95
    parts += _x_labels(
        labels, centres, x_label, rotate=rotate, width=width, every_label=True,
        max_chars=SLANTED_CHARS if rotate else 20,
    )  # fmt: skip
    return _frame(title, [*parts, *_legend(series, width)], width=width)
