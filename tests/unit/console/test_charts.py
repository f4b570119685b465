"""The SVG chart builders: axes, tick and category labels, thresholds, escaping."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from driftline.console.charts import Series, bar_chart, line_chart, lineage_graph

SVG = "{http://www.w3.org/2000/svg}"


def _texts(svg: str) -> list[str]:
    root = ET.fromstring(svg)  # well-formed XML, or this raises
    return [t.text or "" for t in root.iter(f"{SVG}text")]


def test_a_line_chart_has_axes_labels_ticks_and_a_dashed_threshold() -> None:
    svg = line_chart(
        "tenure: psi per window",
        [Series("psi statistic", [("01-06 09:00", 0.1), ("01-06 10:00", 0.31)])],
        x_label="window end (UTC)",
        y_label="psi",
        threshold=0.2,
    )
    texts = _texts(svg)
    assert {"window end (UTC)", "psi", "01-06 09:00", "01-06 10:00", "psi statistic"} <= set(texts)
    assert {"0", "0.1", "0.2", "0.3", "0.4"} <= set(texts)  # round ticks past the largest value
    assert svg.count('class="chart-axis"') == 2
    assert 'class="chart-threshold"' in svg
    assert "threshold 0.2" in svg


def test_a_bar_chart_labels_every_category() -> None:
    bars = [("run-a", 0.91), ("run-b", 0.87), ("run-c", 0.93)]
    texts = _texts(bar_chart("accuracy by run", bars, x_label="run", y_label="accuracy"))
    assert {"run-a", "run-b", "run-c", "run", "accuracy"} <= set(texts)


def test_a_bar_chart_draws_negative_values_below_zero() -> None:
    svg = bar_chart("delta", [("a", -1.0), ("b", 2.0)], x_label="x", y_label="y")
    heights = [float(r.get("height", 0)) for r in ET.fromstring(svg).iter(f"{SVG}rect")]
    assert all(h > 0 for h in heights)
    assert len(heights) == 2


def test_hostile_names_are_escaped_not_markup() -> None:
    svg = line_chart(
        "<script>alert(1)</script>",
        [Series("</text><script>x</script>", [("<b>", 1.0)])],
        x_label="&",
        y_label='"',
    )
    assert "<script>" not in svg
    assert "<script>alert(1)</script>" in _texts(svg)


def test_empty_charts_say_so_instead_of_failing() -> None:
    assert "no data yet" in _texts(line_chart("x", [], x_label="a", y_label="b"))
    assert "no data yet" in _texts(bar_chart("x", [], x_label="a", y_label="b"))


def test_one_point_and_flat_series_still_draw_a_scale() -> None:
    texts = _texts(line_chart("x", [Series("s", [("t", 0.0)])], x_label="a", y_label="b"))
    assert "t" in texts
    assert "1" in texts


def test_the_lineage_graph_draws_one_box_per_step_joined_by_arrows() -> None:
    svg = lineage_graph("lineage", [("data.arrived", "sha256=abc"), ("registry.approved", "")])
    root = ET.fromstring(svg)
    assert len([r for r in root.iter(f"{SVG}rect")]) == 2
    assert len([e for e in root.iter(f"{SVG}line")]) == 1
    assert "sha256=abc" in _texts(svg)


def test_ticks_are_round_and_cover_the_data() -> None:
    from driftline.console.charts import _ticks

    assert _ticks(0, 0.951) == [0, 0.25, 0.5, 0.75, 1.0]
    assert _ticks(0, 37) == [0, 10, 20, 30, 40]
    assert _ticks(-1, 2) == [-1, 0, 1, 2]
    assert _ticks(5, 5) == [5, 5.25, 5.5, 5.75, 6]


def test_long_category_labels_are_shortened_few_bars_are_labelled_upright() -> None:
    svg = bar_chart("m", [("run-" + "x" * 40, 1.0), ("b", 2.0)], x_label="run", y_label="m")
    assert "run-xxxxxxxxxxxxxxx…" in _texts(svg)
    assert "rotate(-30" not in svg
