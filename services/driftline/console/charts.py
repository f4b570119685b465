"""Server-side SVG charts: data in, markup out; colours come from the page's CSS classes
(``chart-*``), so one drawing reads in light and dark."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

WIDTH, HEIGHT = 640, 260
LEFT, RIGHT, TOP, BOTTOM = 56, 16, 28, 64
SERIES_CLASSES = 6


@dataclass(frozen=True)
class Series:
    """One line: its name and (x label, y) points in x order."""

    name: str
    points: Sequence[tuple[str, float]]


def _ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values (steps of 1, 2, 2.5 or 5 x 10^k) covering [low, high]."""
    if high <= low:
        high = low + 1.0
    raw = (high - low) / (count - 1)
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    first = math.floor(low / step + 1e-9) * step
    ticks = [first]
    while ticks[-1] < high - step * 1e-9:
        ticks.append(first + len(ticks) * step)
    return [round(t, 12) for t in ticks]


def _fmt(value: float) -> str:
    return f"{value:.3g}"


def _frame(title: str, body: list[str], height: int = HEIGHT, width: int = WIDTH) -> str:
    return (
        f'<svg class="chart" role="img" viewBox="0 0 {width} {height}" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>'
        f'<text class="chart-title" x="{LEFT}" y="16">{escape(title)}</text>'
        + "".join(body)
        + "</svg>"
    )


def _y_axis(
    low: float, high: float, label: str, width: int = WIDTH
) -> tuple[list[str], float, float]:
    """Gridlines and tick labels of the y axis; returns them with the scale's ends."""
    ticks = _ticks(low, high)
    lo, hi = ticks[0], ticks[-1]
    plot_h = HEIGHT - TOP - BOTTOM
    parts = [
        f'<line class="chart-axis" x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{HEIGHT - BOTTOM}"/>'
    ]
    for tick in ticks:
        y = TOP + plot_h * (1 - (tick - lo) / (hi - lo))
        parts.append(
            f'<line class="chart-grid" x1="{LEFT}" y1="{y:.1f}" x2="{width - RIGHT}" y2="{y:.1f}"/>'
        )
        parts.append(
            f'<text class="chart-tick" x="{LEFT - 6}" y="{y + 4:.1f}" '
            f'text-anchor="end">{_fmt(tick)}</text>'
        )
    parts.append(
        f'<text class="chart-label" transform="translate(12 {TOP + plot_h / 2:.0f}) '
        f'rotate(-90)" text-anchor="middle">{escape(label)}</text>'
    )
    return parts, lo, hi


def _x_labels(
    labels: Sequence[str],
    xs: Sequence[float],
    axis_label: str,
    *,
    rotate: bool = True,
    width: int = WIDTH,
    every_label: bool = False,
    max_chars: int = 20,
) -> list[str]:
    """The x axis, its tick labels (thinned to ~8 unless ``every_label``) and its title."""
    base = HEIGHT - BOTTOM
    parts = [f'<line class="chart-axis" x1="{LEFT}" y1="{base}" x2="{width - RIGHT}" y2="{base}"/>']
    every = 1 if every_label else max(1, len(labels) // 8)  # ~8 labels fit under the axis
    for i, (label, x) in enumerate(zip(labels, xs, strict=True)):
        if i % every and i != len(labels) - 1:
            continue
        shown = label if len(label) <= max_chars else label[: max_chars - 1] + "…"
        placed = (
            f'text-anchor="end" transform="rotate(-30 {x:.1f} {base + 14})"'
            if rotate
            else 'text-anchor="middle"'
        )
        parts.append(
            f'<text class="chart-tick" x="{x:.1f}" y="{base + 14}" {placed}>{escape(shown)}</text>'
        )
    parts.append(
        f'<text class="chart-label" x="{(LEFT + width - RIGHT) / 2:.0f}" '
        f'y="{HEIGHT - 4}" text-anchor="middle">{escape(axis_label)}</text>'
    )
    return parts


def line_chart(
    title: str,
    series: Sequence[Series],
    *,
    x_label: str,
    y_label: str,
    threshold: float | None = None,
) -> str:
    """Lines over shared x labels (e.g. window ends), with an optional dashed threshold."""
    labels = sorted({x for s in series for x, _ in s.points})
    values = [y for s in series for _, y in s.points] + (
        [threshold] if threshold is not None else []
    )
    if not labels:
        return _frame(title, ['<text class="chart-tick" x="56" y="60">no data yet</text>'])
    parts, lo, hi = _y_axis(min(0.0, *values), max(values), y_label)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    span = max(1, len(labels) - 1)
    x_of = {
        label: LEFT + plot_w * (i / span if len(labels) > 1 else 0.5)
        for i, label in enumerate(labels)
    }

    def y_of(v: float) -> float:
        return TOP + plot_h * (1 - (v - lo) / (hi - lo))

    parts += _x_labels(labels, [x_of[x] for x in labels], x_label)
    if threshold is not None:
        parts.append(
            f'<line class="chart-threshold" x1="{LEFT}" y1="{y_of(threshold):.1f}" '
            f'x2="{WIDTH - RIGHT}" y2="{y_of(threshold):.1f}"><title>threshold '
            f"{_fmt(threshold)}</title></line>"
        )
    for i, s in enumerate(series):
        cls = f"chart-series-{i % SERIES_CLASSES}"
        path = " ".join(f"{x_of[x]:.1f},{y_of(y):.1f}" for x, y in s.points)
        parts.append(f'<polyline class="chart-line {cls}" points="{path}"/>')
        parts += [
            f'<circle class="{cls}" cx="{x_of[x]:.1f}" cy="{y_of(y):.1f}" r="3">'
            f"<title>{escape(s.name)} {escape(x)}: {_fmt(y)}</title></circle>"
            for x, y in s.points
        ]
        parts.append(
            f'<text class="chart-legend {cls}" x="{WIDTH - RIGHT}" y="{16 + 14 * i}" '
            f'text-anchor="end">{escape(s.name)}</text>'
        )
    return _frame(title, parts)


def bar_chart(title: str, bars: Sequence[tuple[str, float]], *, x_label: str, y_label: str) -> str:
    """One bar per labelled category (e.g. a metric of each compared run)."""
    if not bars:
        return _frame(title, ['<text class="chart-tick" x="56" y="60">no data yet</text>'])
    values = [v for _, v in bars]
    parts, lo, hi = _y_axis(min(0.0, *values), max(0.0, *values), y_label)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / len(bars)
    centres = [LEFT + slot * (i + 0.5) for i in range(len(bars))]
    zero = TOP + plot_h * (1 - (0 - lo) / (hi - lo))
    for i, ((label, value), x) in enumerate(zip(bars, centres, strict=True)):
        y = TOP + plot_h * (1 - (value - lo) / (hi - lo))
        parts.append(
            f'<rect class="chart-bar chart-series-{i % SERIES_CLASSES}" '
            f'x="{x - slot * 0.35:.1f}" y="{min(y, zero):.1f}" width="{slot * 0.7:.1f}" '
            f'height="{abs(zero - y):.1f}"><title>{escape(label)}: {_fmt(value)}</title>'
            f"</rect>"
        )
    parts += _x_labels([label for label, _ in bars], centres, x_label, rotate=len(bars) > 4)
    return _frame(title, parts)


def lineage_graph(title: str, steps: Sequence[tuple[str, str]]) -> str:
    """A vertical chain of boxes (heading, detail), the root cause at the top."""
    box_h, gap = 44, 22
    height = TOP + len(steps) * (box_h + gap) + 8
    parts: list[str] = []
    for i, (heading, detail) in enumerate(steps):
        y = TOP + i * (box_h + gap)
        parts.append(
            f'<rect class="chart-node" x="{LEFT}" y="{y}" width="{WIDTH - 2 * LEFT}" '
            f'height="{box_h}" rx="6"/>'
        )
        parts.append(
            f'<text class="chart-node-title" x="{LEFT + 10}" y="{y + 18}">{escape(heading)}</text>'
        )
        parts.append(
            f'<text class="chart-tick" x="{LEFT + 10}" y="{y + 35}">{escape(detail[:90])}</text>'
        )
        if i:
            parts.append(
                f'<line class="chart-edge" x1="{WIDTH / 2:.0f}" y1="{y - gap}" '
                f'x2="{WIDTH / 2:.0f}" y2="{y}" marker-end="url(#arrow)"/>'
            )
    arrow = (
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto"><path class="chart-arrow" d="M0,0 L10,5 L0,10 z"/>'
        "</marker></defs>"
    )
    return _frame(title, [arrow, *parts], height=height)
