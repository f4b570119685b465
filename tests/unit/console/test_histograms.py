"""Distribution plots: overlaid histograms and paired category bars, axes and labels."""

from __future__ import annotations

import re

from driftline.console.histograms import histogram_chart, paired_bar_chart
from driftline.console.web.plots import MAX_CATEGORIES, bin_edges, distribution_svg


def _texts(svg: str, cls: str) -> list[str]:
    return re.findall(rf'<text class="{cls}"[^>]*>([^<]*)</text>', svg)


def test_monitorings_bin_labels_become_edges_and_anything_else_is_a_category() -> None:
    assert bin_edges(["0..1.5", "1.5..3", "3..4.5"]) == [0.0, 1.5, 3.0, 4.5]
    assert bin_edges(["-2e+03..-1e+03", "-1e+03..0"]) == [-2000.0, -1000.0, 0.0]
    assert bin_edges(["a", "b"]) is None
    assert bin_edges(["0..1", "2..3"]) is None  # not contiguous
    assert bin_edges(["1..2", "x"]) is None
    assert bin_edges([]) is None


def test_a_histogram_has_both_axes_titled_edges_as_ticks_and_a_legend() -> None:
    svg = histogram_chart(
        "age", [0, 10, 20], [("reference", [0.5, 0.5]), ("current", [0.2, 0.8])],
        x_label="age (years)", y_label="share of rows",
    )  # fmt: skip
    assert _texts(svg, "chart-label") == ["share of rows", "age (years)"]
    ticks = _texts(svg, "chart-tick")
    assert {"0", "10", "20"} <= set(ticks)
    assert "0.8" in ticks  # the y axis reaches the tallest bar
    assert _texts(svg, "chart-legend") == ["reference", "current"]
    assert svg.count('<rect class="chart-hist') == 4


def test_paired_bars_label_every_category_and_widen_instead_of_dropping_labels() -> None:
    categories = [f"cat-{i}" for i in range(30)]
    svg = paired_bar_chart(
        "plan", categories, [("reference", [1.0] * 30), ("current", [2.0] * 30)],
        x_label="plan", y_label="share",
    )  # fmt: skip
    assert _texts(svg, "chart-tick")[-30:] == categories
    width = int(re.search(r'viewBox="0 0 (\d+) ', svg).group(1))  # type: ignore[union-attr]
    assert width > 640


def test_many_categories_are_folded_into_other_and_empty_data_says_so() -> None:
    labels = [f"c{i}" for i in range(100)]
    svg = distribution_svg(
        {"feature": "city", "labels": labels, "reference": [1 / 100] * 100, "current": [0.01] * 100}
    )
    shown = [t for t in _texts(svg, "chart-tick") if t.startswith("c") or t == "(other)"]
    assert len(shown) == MAX_CATEGORIES
    assert shown[-1] == "(other)"
    assert "no data yet" in distribution_svg({"feature": "x", "labels": []})
    assert "no data yet" in histogram_chart("x", [0.0], [], x_label="x", y_label="y")


def test_hostile_labels_are_escaped() -> None:
    svg = distribution_svg(
        {"feature": "<b>f</b>", "labels": ["<script>"], "reference": [1.0], "current": [1.0]}
    )
    assert "<script>" not in svg
    assert "<b>" not in svg
    assert "&lt;script&gt;" in svg


def test_long_categories_slant_and_are_cut_short_with_the_full_name_in_the_tooltip() -> None:
    long = [f"a-very-long-category-name-{i}" for i in range(12)]
    svg = paired_bar_chart("city", long, [("rows", [1.0] * 12)], x_label="city", y_label="rows")
    shown = _texts(svg, "chart-tick")[-12:]
    assert all(len(label) <= 11 and label.endswith("…") for label in shown)
    assert 'transform="rotate(-30' in svg
    assert "rows a-very-long-category-name-3: 1</title>" in svg
    upright = paired_bar_chart("plan", ["basic", "premium"], [("rows", [1.0, 2.0])],
                               x_label="plan", y_label="rows")  # fmt: skip
    assert "rotate(-30" not in upright
