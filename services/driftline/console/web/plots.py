"""Distribution and profile plots from other services' JSON (drift reports, column profiles)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from driftline.console.histograms import OTHER, histogram_chart, paired_bar_chart
from driftline.console.ports import Row

MAX_CATEGORIES = 40
"""Categories drawn per plot; rarer ones are summed into ``(other)``."""


def bin_edges(labels: Sequence[str]) -> list[float] | None:
    """Monitoring's numeric bins are labelled ``low..high``; their edges, or None (categories)."""
    edges: list[float] = []
    for label in labels:
        low, sep, high = label.partition("..")
        try:
            pair = float(low), float(high)
        except ValueError:
            return None
        if not edges:
            edges.append(pair[0])
        elif not sep or abs(edges[-1] - pair[0]) > 1e-9 * max(1.0, abs(pair[0])):
            return None  # not contiguous bins: treat the labels as categories
        edges.append(pair[1])
    return edges or None


def _floats(values: Any, count: int) -> list[float]:
    found = [float(v) if isinstance(v, int | float) else 0.0 for v in (values or [])[:count]]
    return found + [0.0] * (count - len(found))


def _top_categories(
    labels: Sequence[str], series: list[tuple[str, list[float]]]
) -> tuple[list[str], list[tuple[str, list[float]]]]:
    """At most MAX_CATEGORIES categories, largest first; the rest summed into ``(other)``."""
    if len(labels) <= MAX_CATEGORIES:
        return list(labels), series
    weight = [max(values[i] for _, values in series) for i in range(len(labels))]
    order = sorted(range(len(labels)), key=lambda i: (labels[i] == OTHER, -weight[i]))
    kept, rest = order[: MAX_CATEGORIES - 1], order[MAX_CATEGORIES - 1 :]
    folded = [(name, [values[i] for i in kept] + [sum(values[i] for i in rest)])
              for name, values in series]  # fmt: skip
    return [labels[i] for i in kept] + [OTHER], folded


def distribution_svg(dist: Row) -> str:
    """One feature's reference vs current shares: overlaid histogram, or paired bars."""
    feature = str(dist.get("feature", "?"))
    labels = [str(label) for label in dist.get("labels") or []]
    series = [(name, _floats(dist.get(name), len(labels))) for name in ("reference", "current")]
    title = f"{feature}: reference vs current"
    edges = bin_edges(labels)
    if edges is not None:
        return histogram_chart(
            title,
            edges,
            series,
            x_label=f"{feature} (the reference's bins; outer bins open-ended)",
            y_label="share of rows",
        )
    categories, series = _top_categories(labels, series)
    return paired_bar_chart(
        title, categories, series, x_label=f"{feature} category", y_label="share of rows"
    )


@dataclass(frozen=True)
class ColumnPlot:
    """One profiled column: its facts line and its plot (None when nothing to draw)."""

    name: str
    dtype: str
    facts: str
    svg: str | None


def _facts(column: Row, rows: int) -> str:
    nulls = int(column.get("nulls") or 0)
    shown = [f"{column.get('distinct', '?')} distinct", f"{nulls} null ({_share(nulls, rows)})"]
    for key in ("min", "mean", "max", "std"):
        value = column.get(key)
        if isinstance(value, int | float):
            shown.append(f"{key} {value:.4g}")
    return " · ".join(shown)


def _share(part: int, whole: int) -> str:
    return f"{part / whole:.1%}" if whole else "—"


def column_plot(column: Row, rows: int) -> ColumnPlot:
    """A numeric column's histogram of row counts, or its categories' counts."""
    name = str(column.get("name", "?"))
    histogram, categories = column.get("histogram"), column.get("categories")
    svg = None
    if isinstance(histogram, dict) and histogram.get("edges"):
        edges = _floats(histogram["edges"], len(histogram["edges"]))
        counts = _floats(histogram.get("counts"), len(edges) - 1)
        svg = histogram_chart(
            f"{name}: values", edges, [("rows", counts)], x_label=name, y_label="rows"
        )
    elif isinstance(categories, dict) and categories:
        ordered = sorted(categories, key=lambda k: (k == OTHER, -_floats([categories[k]], 1)[0]))
        labels, series = _top_categories(ordered, [("rows", _floats(
            [categories[k] for k in ordered], len(ordered)))])  # fmt: skip
        svg = paired_bar_chart(
            f"{name}: categories", labels, series, x_label=f"{name} value", y_label="rows"
        )
    return ColumnPlot(name, str(column.get("dtype", "?")), _facts(column, rows), svg)


def profile_plots(profile: Row) -> tuple[str, list[ColumnPlot]]:
    """The null rate of every column (one chart) and a plot per column."""
    rows = int(profile.get("rows") or 0)
    columns = [c for c in profile.get("columns") or [] if isinstance(c, dict)]
    names = [str(c.get("name", "?")) for c in columns]
    shares = [(int(c.get("nulls") or 0) / rows) if rows else 0.0 for c in columns]
    chart = paired_bar_chart(
        "Null rate per column",
        names,
        [("null share", shares)],
        x_label="column",
        y_label="share of rows null",
    )
    return chart, [column_plot(c, rows) for c in columns]
