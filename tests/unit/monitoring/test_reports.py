"""Drift reports: JSON content and a self-contained HTML page with one SVG per feature."""

from __future__ import annotations

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


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="chromium not installed")
def test_headless_chromium_renders_the_svgs(tmp_path: Path) -> None:
    _, html, tested = _page()
    page = tmp_path / "report.html"
    page.write_text(html)
    done = subprocess.run(
        [CHROMIUM, *CHROMIUM_FLAGS, page.as_uri()],
        capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    assert done.stdout.count("<svg") == tested
    assert done.stdout.count("<rect") >= tested * 2
