"""Drift reports: JSON content and a self-contained HTML page with one SVG per feature."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest

from driftline.monitoring.evaluation import Tolerances, evaluate_window
from driftline.monitoring.html import report_html
from driftline.monitoring.reports import build_report, distributions
from driftline_contracts.modelspec import DriftPolicy
from driftline_contracts.values import TimeWindow
from tests.unit.monitoring.helpers import population, reference_of, window_of

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--dump-dom",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--no-first-run",
]  # fmt: skip


def _page() -> tuple[dict, str, int]:
    reference = reference_of(population(2000, seed=0))
    current = population(300, seed=1, shift=12.0)
    window = window_of(current)
    result = evaluate_window(reference, window, DriftPolicy(window_size=300), Tolerances())
    span = TimeWindow(start=datetime(2025, 1, 1, tzinfo=UTC), end=datetime(2025, 1, 2, tzinfo=UTC))
    report = build_report(
        model="churn", version=2, window_id="w000007", window=span, rows=300,
        policy=DriftPolicy(window_size=300), reference=None, result=result,
    )  # fmt: skip
    tested = len(result.features) + (result.prediction is not None)
    return report, report_html(report, distributions(reference, window, result)), tested


def test_json_report_carries_every_verdict() -> None:
    report, _, tested = _page()
    result = report["result"]
    assert len(result["features"]) + 1 == tested == 4
    assert result["drifted"] is False  # one of three features moved: under the 0.5 share
    assert next(f for f in result["features"] if f["feature"] == "age")["drifted"]


def test_html_has_one_svg_per_feature_and_nothing_external() -> None:
    _, html, tested = _page()
    assert html.count("<svg ") == tested
    assert "<script" not in html
    assert not re.search(r"(src|href)=", html)  # no external assets
    assert "w000007" in html
    assert "age" in html


# Appended to a copy of the page only: the report itself carries no script. It records, after
# layout, each SVG's rendered size and its bars that Chromium drew with a non-zero area.
PROBE = """<script>
addEventListener('load', () => {
  const plots = [...document.querySelectorAll('svg')].map(svg => {
    const box = svg.getBoundingClientRect();
    const bars = [...svg.querySelectorAll('rect')].filter(rect => {
      const b = rect.getBoundingClientRect();
      return b.width > 0 && b.height > 0;
    });
    return {feature: svg.getAttribute('aria-label'), width: box.width, height: box.height,
            bars: bars.length, colours: new Set(bars.map(r => getComputedStyle(r).fill)).size};
  });
  const out = document.createElement('pre');
  out.id = 'probe';
  out.textContent = JSON.stringify(plots);
  document.body.appendChild(out);
});
</script>"""


def _rendered(html: str, tmp_path: Path) -> list[dict]:
    """What headless Chromium laid out: one entry per SVG with its size and drawn bars."""
    page = tmp_path / "report.html"
    page.write_text(html.replace("</body>", f"{PROBE}</body>"))
    done = subprocess.run(
        [CHROMIUM, *CHROMIUM_FLAGS, page.as_uri()],
        capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    found = re.search(r'<pre id="probe">(.*?)</pre>', done.stdout, re.S)
    assert found is not None, "the page did not load in Chromium"
    return json.loads(found.group(1))


def _assert_plotted(plots: list[dict], features: list[str]) -> None:
    """Every feature has a laid-out SVG with reference and current bars actually drawn."""
    assert sorted(p["feature"] for p in plots) == sorted(features)
    for plot in plots:
        assert plot["width"] > 0, plot
        assert plot["height"] > 0, plot
        assert plot["bars"] >= 2, plot
        assert plot["colours"] == 2, plot  # grey reference and blue current bars both drawn


def _chromium() -> str:
    """The browser; in CI (which installs it) a missing one fails, elsewhere it skips, so the
    README's test command passes on a machine with only Python and pip."""
    if not Path(CHROMIUM).exists():
        message = f"headless Chromium needed at {CHROMIUM} (apt install chromium)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return CHROMIUM


def test_headless_chromium_renders_the_plots(tmp_path: Path) -> None:
    _chromium()
    report, html, _ = _page()
    features = [f["feature"] for f in report["result"]["features"]] + ["prediction"]
    _assert_plotted(_rendered(html, tmp_path), features)


def test_chromium_check_fails_without_plots(tmp_path: Path) -> None:
    _chromium()
    report, html, _ = _page()
    features = [f["feature"] for f in report["result"]["features"]] + ["prediction"]
    without_plots = report_html(report, [])
    with pytest.raises(AssertionError):
        _assert_plotted(_rendered(without_plots, tmp_path), features)
    with pytest.raises(AssertionError):  # SVGs present but no bar drawn
        _assert_plotted(_rendered(_bars_flattened(html), tmp_path), features)


def _bars_flattened(html: str) -> str:
    return re.sub(r"(<rect [^>]*?)height='[0-9.]+'", r"\1height='0'", html)
