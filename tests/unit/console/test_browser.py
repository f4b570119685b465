"""The console's pages in real headless Chromium: no script errors, labelled charts in light and
dark, and the approver's buttons (shown to approvers only) sending the expected request.

The console app is the unit tests' (read model from the contracts' example events, other
services faked) served over HTTP in a thread; Chromium is driven over its DevTools pipe.
"""

from __future__ import annotations

import base64
import json
import os
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from driftline_contracts.events import DataValidated, ModelTrained
from driftline_contracts.examples import example
from tests.unit.console.browser import Browser, chromium_or_skip, served
from tests.unit.console.conftest import APPROVER_TOKEN, VIEWER_TOKEN, console_app
from tests.unit.console.fakes import FakeArtifacts, FakeUpstream
from tests.unit.console.samples import PROFILE, PROFILE_SHA, PROFILE_URI, WINDOWS, report
from tests.unit.console.test_promotions import gate_rejected, roles

DATASET = example(DataValidated).dataset
PAGES = [
    "/",
    "/models/churn-clf",
    "/models/churn-clf/drift",
    "/datasets",
    f"/datasets/{DATASET.name}/versions/{DATASET.version}",
    "/runs",
    f"/runs/compare?run={example(ModelTrained).run_id}&run=run-rival",
    "/audit",
]
# Every axis chart on the page: its title, axis titles, tick labels and drawn marks.
CHARTS = """JSON.stringify([...document.querySelectorAll('svg.chart')].map(svg => {
  const box = svg.getBoundingClientRect();
  const texts = cls => [...svg.querySelectorAll('text.' + cls)].map(t => t.textContent.trim());
  const marks = [...svg.querySelectorAll('rect, polyline, circle')].filter(m => {
    const b = m.getBoundingClientRect();
    return b.width > 0 || b.height > 0;
  });
  return {title: svg.querySelector('title').textContent, width: box.width, height: box.height,
          axes: texts('chart-label'), ticks: texts('chart-tick').filter(Boolean),
          marks: marks.length, nodes: svg.querySelectorAll('.chart-node').length};
}))"""


@pytest.fixture(scope="module")
def upstream() -> FakeUpstream:
    return FakeUpstream(windows=WINDOWS, reports={3: report(3)})


@pytest.fixture(scope="module")
def console(upstream: FakeUpstream) -> Iterator[str]:
    chromium_or_skip()
    app = console_app(
        gate_rejected(),
        verify=roles(),
        upstream=upstream,
        artifacts=FakeArtifacts({PROFILE_URI: (PROFILE_SHA, PROFILE)}),
    )
    with served(app) as url:
        yield url


@pytest.fixture(scope="module")
def browser(console: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    chrome = Browser(tmp_path_factory.mktemp("chromium-profile"))
    try:
        chrome.open()
        yield chrome
    finally:
        chrome.close()


def sign_in(browser: Browser, console: str, token: str) -> None:
    """Through the sign-in page, as a person would."""
    browser.goto(f"{console}/signout")
    browser.goto(f"{console}/signin?next=/")
    mark = browser.event_count()
    browser.evaluate(
        f"document.getElementById('token').value = {json.dumps(token)};"
        "document.getElementById('signin').requestSubmit()"
    )
    browser.wait_for_event("Page.loadEventFired", mark)
    assert browser.evaluate("location.pathname") == "/"


def charts(browser: Browser) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = json.loads(browser.evaluate(CHARTS))
    return found


def test_every_page_renders_without_script_errors_with_labelled_charts(
    browser: Browser, console: str
) -> None:
    sign_in(browser, console, VIEWER_TOKEN)
    drawn = 0
    for page in PAGES:
        mark = browser.event_count()
        browser.goto(console + page)
        assert browser.evaluate("document.querySelector('h1') !== null"), page
        assert browser.evaluate("typeof htmx") == "object", page  # the vendored script ran
        for chart in charts(browser):
            assert chart["width"] > 100, (page, chart)
            assert chart["height"] > 50, (page, chart)
            if chart["nodes"]:  # the lineage graph has boxes, not axes
                continue
            assert len(chart["axes"]) == 2, (page, chart)
            assert all(chart["axes"]), (page, chart)
            assert len(chart["ticks"]) >= 3, (page, chart)
            assert chart["marks"] >= 1, (page, chart)
            drawn += 1
        assert browser.errors(mark) == [], page
    assert drawn >= 10


def test_drift_distributions_label_categories_and_bins(browser: Browser, console: str) -> None:
    sign_in(browser, console, VIEWER_TOKEN)
    browser.goto(f"{console}/models/churn-clf/drift")
    by_title = {c["title"]: c for c in charts(browser)}
    categorical = by_title["plan: reference vs current"]
    assert {"basic", "premium", "family & <friends>", "(other)"} <= set(categorical["ticks"])
    assert categorical["axes"] == ["share of rows", "plan category"]
    assert categorical["marks"] == 8 + 2  # paired bars and the legend's two swatches
    numeric = by_title["tenure_months: reference vs current"]
    assert {"0", "12", "24", "36", "48"} <= set(numeric["ticks"])
    assert numeric["marks"] == 8 + 2


def _contrast(browser: Browser, selector: str) -> float:
    """WCAG contrast ratio of ``selector``'s fill against the page background."""
    colours = browser.evaluate(
        "(() => { const rgb = s => s.match(/[0-9.]+/g).slice(0, 3).map(Number);"
        f"const el = document.querySelector({json.dumps(selector)});"
        "return [rgb(getComputedStyle(el).fill),"
        "rgb(getComputedStyle(document.body).backgroundColor)]; })()"
    )

    def luminance(rgb: list[float]) -> float:
        linear = [c / 255 / 12.92 if c <= 10 else ((c / 255 + 0.055) / 1.055) ** 2.4 for c in rgb]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    high, low = sorted((luminance(colours[0]), luminance(colours[1])), reverse=True)
    return (high + 0.05) / (low + 0.05)


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_chart_text_reads_on_the_background_in_light_and_dark(
    browser: Browser, console: str, scheme: str
) -> None:
    sign_in(browser, console, VIEWER_TOKEN)
    browser.send(
        "Emulation.setEmulatedMedia",
        features=[{"name": "prefers-color-scheme", "value": scheme}],
    )
    try:
        browser.goto(f"{console}/models/churn-clf/drift")
        background = browser.evaluate("getComputedStyle(document.body).backgroundColor")
        assert (background == "rgb(255, 255, 255)") == (scheme == "light")
        for selector in ("svg.chart text.chart-label", "svg.chart text.chart-tick"):
            assert _contrast(browser, selector) >= 4.5, (scheme, selector)
        assert _contrast(browser, "svg.chart rect.chart-series-1") >= 3.0, scheme
    finally:
        browser.send("Emulation.setEmulatedMedia", features=[])


def test_only_an_approver_gets_the_buttons_and_a_click_sends_the_request(
    browser: Browser, console: str, upstream: FakeUpstream
) -> None:
    sign_in(browser, console, VIEWER_TOKEN)
    browser.goto(f"{console}/models/churn-clf")
    assert browser.evaluate("document.querySelectorAll('form.action').length") == 0
    sign_in(browser, console, APPROVER_TOKEN)
    browser.goto(f"{console}/models/churn-clf")
    mark = browser.event_count()
    upstream.writes.clear()
    form = "document.querySelector('form[data-action$=\"/versions/4/override\"]')"
    browser.evaluate(
        f"(() => {{ const f = {form}; f.elements.reason.value = 'gate too strict here';"
        f"f.elements.token.value = {json.dumps(APPROVER_TOKEN)};"
        "f.querySelector('button').click(); })()"
    )
    result = browser.wait_until(
        f"(t => t.startsWith('sending') ? '' : t)({form}.querySelector('.action-result')"
        ".textContent)"
    )
    assert result == "done: approved over its gates"
    assert upstream.writes == [
        (
            "registry",
            "/v1/models/churn-clf/versions/4/override",
            {"reason": "gate too strict here"},
            f"Bearer {APPROVER_TOKEN}",
        )
    ]
    assert browser.errors(mark) == []


def test_a_refusal_is_shown_beside_the_button(
    browser: Browser, console: str, upstream: FakeUpstream
) -> None:
    sign_in(browser, console, APPROVER_TOKEN)
    browser.goto(f"{console}/models/churn-clf")
    upstream.writes.clear()
    upstream.status = 409
    try:
        form = "document.querySelector('form[data-action$=\"/versions/1/promote\"]')"
        browser.evaluate(
            f"(() => {{ const f = {form}; f.elements.reason.value = 'v2 misroutes refunds';"
            f"f.elements.token.value = {json.dumps(APPROVER_TOKEN)};"
            "f.querySelector('button').click(); })()"
        )
        result = browser.wait_until(
            f"(t => t.startsWith('sending') ? '' : t)({form}.querySelector('.action-result')"
            ".textContent)"
        )
    finally:
        upstream.status = 200
    assert result == "refused (409): refused by deployment"
    assert upstream.writes == [
        (
            "deployment",
            "/v1/models/churn-clf/versions/1/promote",
            {"reason": "v2 misroutes refunds"},
            f"Bearer {APPROVER_TOKEN}",
        )
    ]


def test_the_check_fails_on_a_page_with_a_script_error(browser: Browser, console: str) -> None:
    """Positive control: a thrown error in the page is caught by the same check."""
    sign_in(browser, console, VIEWER_TOKEN)
    browser.goto(f"{console}/runs")
    mark = browser.event_count()
    browser.send("Runtime.evaluate", expression="setTimeout(() => { throw new Error('boom') })")
    browser.wait_for_event("Runtime.exceptionThrown", mark)
    assert any("boom" in error for error in browser.errors(mark))


SHOTS = [  # (file, page, scheme, element scrolled to the top)
    ("overview", "/", "light", None),
    ("model", "/models/churn-clf", "light", None),
    ("drift", "/models/churn-clf/drift", "light", "h2:nth-of-type(2)"),
    ("dataset", f"/datasets/{DATASET.name}/versions/{DATASET.version}", "light", None),
    ("compare", PAGES[6], "light", None),
    ("compare-dark", PAGES[6], "dark", None),
]


def test_screenshots_of_the_pages_are_written(
    browser: Browser, console: str, tmp_path: Path
) -> None:
    """Each page as an approver sees it, 1200x900; into docs/console/ when
    DRIFTLINE_CONSOLE_SCREENSHOTS names that folder (how the docs' pictures are made)."""
    folder = Path(os.environ.get("DRIFTLINE_CONSOLE_SCREENSHOTS") or tmp_path)
    sign_in(browser, console, APPROVER_TOKEN)
    browser.send(
        "Emulation.setDeviceMetricsOverride",
        width=1200, height=900, deviceScaleFactor=1, mobile=False,
    )  # fmt: skip
    try:
        for name, page, scheme, anchor in SHOTS:
            browser.send(
                "Emulation.setEmulatedMedia",
                features=[{"name": "prefers-color-scheme", "value": scheme}],
            )
            browser.goto(console + page)
            if anchor:
                browser.evaluate(f"document.querySelector({json.dumps(anchor)}).scrollIntoView()")
            shot = base64.b64decode(browser.send("Page.captureScreenshot", format="png")["data"])
            assert shot.startswith(b"\x89PNG\r\n\x1a\n"), name
            assert struct.unpack(">II", shot[16:24]) == (1200, 900), name
            assert len(shot) > 20_000, name  # a page, not a blank
            (folder / f"{name}.png").write_bytes(shot)
    finally:
        browser.send("Emulation.setEmulatedMedia", features=[])
        browser.send("Emulation.clearDeviceMetricsOverride")
