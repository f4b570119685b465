"""The drift report as one self-contained HTML page: inline SVG histograms, no script, no assets."""

from __future__ import annotations

from html import escape
from typing import Any

from driftline.monitoring.histograms import Distribution
from driftline.monitoring.row_flags import RowFlags

WIDTH, HEIGHT, PAD = 420, 140, 18
STYLE = (
    "body{font-family:sans-serif;margin:2em;color:#222}table{border-collapse:collapse}"
    "td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}.drift{color:#b00020}"
    ".ok{color:#1b5e20}figure{display:inline-block;margin:8px}"
)


def report_html(report: dict[str, Any], distributions: list[Distribution]) -> str:
    """A page with the verdict, a table of every feature and one SVG histogram per feature."""
    result = report["result"]
    verdict = "DRIFT" if result["drifted"] else "no drift"
    css = "drift" if result["drifted"] else "ok"
    title = f"Drift report {report['model']} v{report['version']} {report['window_id']}"
    rows = "".join(_row(f) for f in _all_features(result))
    figures = "".join(_figure(d) for d in distributions)
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{escape(title)}</title>"
        f"<style>{STYLE}</style></head><body><h1>{escape(title)}</h1>"
        f"<p class='{css}'><strong>{verdict}</strong> — severity {escape(result['severity'])}, "
        f"{result['drift_share']:.0%} of features drifted ({escape(result['method'])} rules; "
        f"reasons: {escape(', '.join(result['reasons']) or 'none')}); "
        f"{report['rows']} predictions from {escape(report['window']['start'])} "
        f"to {escape(report['window']['end'])}.</p>"
        f"<table><tr><th>feature</th><th>test</th><th>statistic</th><th>p-value</th>"
        f"<th>effect</th><th>drifted</th></tr>{rows}</table>"
        f"{_flags(report.get('row_flags'))}"
        f"<h2>Reference (grey) vs current (blue)</h2>{figures}</body></html>"
    )


def _flags(found: dict[str, Any] | None) -> str:
    """The rows served with values training never saw: one line per feature and kind."""
    if not found:
        return ""
    flags = RowFlags.model_validate(found)
    if not flags.counts:
        return f"<p>Rows flagged at serving: none of {flags.rows}.</p>"
    items = "".join(f"<li>{escape(line)}</li>" for line in flags.lines())
    return (
        f"<h2>Rows flagged at serving</h2><p>{flags.flagged_rows} of {flags.rows} rows had "
        f"values their version never saw in training (served, with a warning):</p><ul>{items}</ul>"
    )


def _all_features(result: dict[str, Any]) -> list[dict[str, Any]]:
    prediction = result.get("prediction")
    return [*result["features"], *([prediction] if prediction else [])]


def _row(feature: dict[str, Any]) -> str:
    p_value = feature.get("p_value")
    effect = feature.get("effect_size")
    cells = [
        escape(feature["feature"]),
        escape(feature["test"]),
        f"{feature['statistic']:.4g}",
        "" if p_value is None else f"{p_value:.3g}",
        "" if effect is None else f"{feature.get('effect_test')} {effect:.3g}",
        "<span class='drift'>yes</span>" if feature["drifted"] else "no",
    ]
    return "<tr>" + "".join(f"<td>{cell}</td>" for cell in cells) + "</tr>"


def _figure(dist: Distribution) -> str:
    return f"<figure><figcaption>{escape(dist.feature)}</figcaption>{histogram_svg(dist)}</figure>"


def histogram_svg(dist: Distribution) -> str:
    """Paired bars per bin or category, scaled to the tallest share."""
    count = max(len(dist.labels), 1)
    top = max([*dist.reference, *dist.current, 1e-12])
    slot = (WIDTH - 2 * PAD) / count
    bars = []
    for i, label in enumerate(dist.labels):
        x = PAD + i * slot
        for offset, share, colour in ((0.0, dist.reference[i], "#9e9e9e"),
                                      (0.5, dist.current[i], "#1e88e5")):  # fmt: skip
            h = (HEIGHT - 2 * PAD) * share / top
            bars.append(
                f"<rect x='{x + offset * slot:.1f}' y='{HEIGHT - PAD - h:.1f}' "
                f"width='{slot / 2:.1f}' height='{h:.1f}' fill='{colour}'>"
                f"<title>{escape(label)}: {share:.1%}</title></rect>"
            )
    return (
        f"<svg xmlns='http://www.w3.org/2000/svg' width='{WIDTH}' height='{HEIGHT}' "
        f"role='img' aria-label='{escape(dist.feature)}'>"
        f"<line x1='{PAD}' y1='{HEIGHT - PAD}' x2='{WIDTH - PAD}' y2='{HEIGHT - PAD}' "
        f"stroke='#555'/>{''.join(bars)}</svg>"
    )
