"""The console as a real process on the local stack: real audit events reach its pages."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from driftline.stack import LocalStack
from driftline.stack.info import StackInfo
from driftline.stack.services import (
    ServiceProcess,
    start_services,
    stop_services,
    wait_until_ready,
)
from driftline.stack.tokens import role_tokens, tokens_path
from driftline_contracts.events import DataRejected, DriftDetected, ModelPromoted, ModelTrained
from driftline_contracts.examples import example
from driftline_contracts.origin import SIGNED_BY
from driftline_contracts.topics import AUDIT
from driftline_contracts.values import DatasetRef, ModelRef
from tests.integration.console_story import MODEL, UID, Story, seattle, summer, winter
from tests.signing import publish_as
from tests.unit.console.browser import Browser, chromium_or_skip
from tests.unit.console.test_browser import charts, sign_in

pytestmark = [pytest.mark.integration]


# The browser journey below needs the services whose answers the pages show.
SERVICES = ["ingest", "validation", "registry", "monitoring", "audit", "console"]


@pytest.fixture(scope="module")
def services(local_stack_control: LocalStack) -> Iterator[dict[str, ServiceProcess]]:
    processes = start_services(local_stack_control, local_stack_control.info(), SERVICES)
    try:
        wait_until_ready(processes, timeout_s=120)
        yield {p.name: p for p in processes}
    finally:
        stop_services(local_stack_control, processes)


@pytest.fixture(scope="module")
def console(services: dict[str, ServiceProcess]) -> ServiceProcess:
    return services["console"]


def _events(model: str) -> list[Any]:
    """A run, a rejected dataset, a direct promotion and a drift episode of ``model``."""
    ref = ModelRef(name=model, version=4)
    dataset = example(DataRejected).dataset.model_copy(update={"name": f"{model}-data"})
    return [
        example(ModelTrained).model_copy(update={"model": model, "run_id": f"run-{model}"}),
        example(DataRejected).model_copy(update={"dataset": dataset}),
        example(ModelPromoted).model_copy(
            update={"model": ref, "previous": None, "via": "direct", "canary_id": None}
        ),
        example(DriftDetected).model_copy(update={"model": ref, "drift_id": f"drift-{model}"}),
    ]


async def _emit(info: StackInfo, events: list[Any]) -> None:
    """Put the events on the audit stream as the outbox relays copy them, each signed by the
    service that emits it (the console acts only on ModelTrained signed by training, ...)."""
    for event in events:
        await publish_as(info, SIGNED_BY.get(event.ce_type), event, actor="user:itest",
                         topic=AUDIT)  # fmt: skip


def test_a_promotion_on_the_audit_stream_shows_on_the_overview(
    console: ServiceProcess, local_stack_control: LocalStack
) -> None:
    info = local_stack_control.info()
    viewer = role_tokens(tokens_path(local_stack_control.home))["viewer"]
    model = f"console-it-{uuid.uuid4().hex[:6]}"
    asyncio.run(_emit(info, _events(model)))
    with httpx.Client(base_url=console.url, timeout=5) as client:
        assert client.get("/").status_code == 303  # pages need sign-in
        headers = {"Authorization": f"Bearer {viewer}"}
        row, deadline, page = f'<a href="/models/{model}">{model}</a>', time.monotonic() + 60, ""
        # The row shows from the first event projected; wait for the last ones too (the
        # promotion and the drift), not just the row, or the read races the stream.
        expected = (row, "<td>v4</td>", "open · ")
        while time.monotonic() < deadline and not all(part in page for part in expected):
            time.sleep(0.5)
            page = client.get("/", params={"q": model}, headers=headers).text
        assert row in page
        assert "<td>v4</td>" in page  # its champion
        assert "open · " in page  # the drift episode

        def read(path: str, **params: str) -> str:
            answer = client.get(path, params=params, headers=headers)
            assert answer.status_code == 200, (path, answer.text[:300])
            return answer.text

        assert "champion" in read(f"/models/{model}")
        assert "tenure_months: psi statistic per window" in read(f"/models/{model}/drift")
        assert example(DataRejected).reasons[0].code in read("/datasets", name=f"{model}-data")
        assert f"run-{model}" in read("/runs", model=model)
        assert "max_depth" in read("/runs/compare", run=f"run-{model}")
        audit = read("/audit", subject=model, type="promoted", actor="user:itest")
        assert "deployment.promoted" in audit
        assert "monitoring.drift-detected" not in audit
        assert "No event matches" in read("/audit", subject=model, actor="user_itest")  # _ literal
        assert client.get("/metrics").status_code == 200


# --- In the browser, after a scripted journey (console_story.py) --------------------------


@pytest.fixture(scope="module")
def journey(services: dict[str, ServiceProcess], local_stack_control: LocalStack) -> Journey:
    """Upload, validate, spec (manual approval), three runs (v1, v2 approved through the API),
    v1 promoted and serving summer days (drift); v3 waits for an approver."""
    chromium_or_skip()  # before minutes of setup
    info = local_stack_control.info()
    tokens = role_tokens(tokens_path(local_stack_control.home))
    story = Story(info, {name: p.url for name, p in services.items()}, tokens)

    async def run() -> DatasetRef:
        weather = seattle()
        dataset = await story.upload_and_validate(winter(weather))
        await story.apply_spec()
        for version, rmse, depth in ((1, 4.0, 3), (2, 3.8, 6), (3, 3.7, 8)):
            await story.train(version, dataset, rmse, depth)
        await story.approve(1)
        await story.approve(2)
        await story.promote_first()
        await story.until("v1 is the champion", lambda: story.get(
            "registry", f"/v1/models/{MODEL}/aliases/champion"))  # fmt: skip
        await story.serve(summer(weather))
        await story.until("monitoring evaluated a window", lambda: story.get(
            "monitoring", f"/v1/models/{MODEL}/drift/windows"))  # fmt: skip
        await story.until("the console projected the drift episode", drift_shown)
        await story.http.aclose()  # its loop ends here; the checks only publish
        return dataset

    async def drift_shown() -> bool:  # the journey's last audited event: the read model is in
        page = await story.http.get(services["console"].url, params={"q": MODEL},
                                    headers=story.auth("viewer"))  # fmt: skip
        return "open · " in page.text

    started = time.monotonic()
    dataset = asyncio.run(run())
    return Journey(story, dataset, services["console"].url, round(time.monotonic() - started, 1))


@pytest.fixture(scope="module")
def browser(journey: Journey, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    """One headless Chromium for every check, signed in as the stack's approver."""
    chrome = Browser(tmp_path_factory.mktemp("chromium-journey"))
    try:
        chrome.open()
        chrome.send("Emulation.setDeviceMetricsOverride", width=1200, height=900,
                    deviceScaleFactor=1, mobile=False)  # fmt: skip
        sign_in(chrome, journey.console, journey.story.tokens["approver"])
        yield chrome
    finally:
        chrome.close()


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the pages' screenshots go: DRIFTLINE_CONSOLE_SCREENSHOTS (e.g. docs/console)."""
    folder = os.environ.get("DRIFTLINE_CONSOLE_SCREENSHOTS")
    return Path(folder) if folder else tmp_path_factory.mktemp("console-shots")


def show(browser: Browser, journey: Journey, path: str) -> int:
    """Load a console page; the event mark to look for script errors after."""
    mark = browser.event_count()
    browser.goto(journey.console + path)
    assert browser.evaluate("document.querySelector('h1') !== null"), path
    return mark


def text(browser: Browser, selector: str) -> str:
    found = browser.evaluate(
        f"(e => e ? e.textContent : '')(document.querySelector({json.dumps(selector)}))"
    )
    return " ".join(str(found).split())


def test_the_overview_shows_the_model_and_its_champion(
    browser: Browser, journey: Journey, shots: Path
) -> None:
    mark = show(browser, journey, f"/?q={MODEL}")
    row = browser.evaluate(
        f"[...document.querySelectorAll('tr')].map(r => r.innerText)"
        f".find(t => t.includes({json.dumps(MODEL)})) || ''"
    )
    cells = row.split("\t")
    assert cells[0] == MODEL, row
    assert cells[1] == "v1", row  # its champion
    assert browser.errors(mark) == []
    screenshot(browser, shots / "journey-overview.png")


def test_a_canary_shows_live_then_its_rollback_with_the_failing_metrics(
    browser: Browser, journey: Journey, shots: Path
) -> None:
    """The overview's feed (server-sent events) and the model page's rollouts (polled) change
    while the page stays loaded; the rolled-back version then shows what failed."""
    story = journey.story
    mark = show(browser, journey, "/")
    browser.evaluate("window.stayed = true")  # gone if the page reloads or navigates
    asyncio.run(story.emit(story.canary_started()))
    feed = "[...document.querySelectorAll('#feed li')].map(li => li.innerText).join('\\n')"
    started = browser.wait_until(
        f"({feed}).split('\\n').find(t => t.includes('canary-started') && "
        f"t.includes({json.dumps(MODEL)}))"
    )
    assert "service:deployment" in started
    assert browser.evaluate("window.stayed") is True
    assert browser.errors(mark) == []

    mark = show(browser, journey, f"/models/{MODEL}")
    browser.wait_until("document.querySelector('#rollouts').innerText.includes('v2 · running')")
    browser.evaluate("window.stayed = true")
    asyncio.run(story.emit(story.canary_advanced()))
    step = browser.wait_until(
        "(t => t.includes('advanced to step 2') ? t : '')"
        "(document.querySelector('#rollouts').innerText)"
    )
    assert "25%" in step, step
    assert "rmse: 3.9 vs 4" in step, step
    assert browser.evaluate("window.stayed") is True  # swapped in, no reload
    browser.evaluate("document.querySelector('#rollouts').scrollIntoView()")
    screenshot(browser, shots / "journey-canary.png")
    asyncio.run(story.emit(story.canary_rolled_back()))
    # The poll that sees the canary ended has htmx reload the page (HX-Refresh): the champion,
    # the statuses and the buttons above the section changed too. The test does not navigate.
    ended = browser.wait_until(
        "(e => !window.stayed && e && e.innerText.includes('rolled back at step 2') ?"
        " e.innerText : '')(document.querySelector('#rollouts'))"
    )
    assert "v2 · rolled back" in ended, ended
    # The failing metric, marked as failed, and the reason.
    failed = browser.evaluate(
        "[...document.querySelectorAll('#rollouts .verdict-fail')]"
        ".map(v => v.parentElement.innerText).join('\\n')"
    )
    assert "rmse: 7.25 vs 4" in failed, failed
    assert "mae" not in failed  # passed: not marked failed
    assert "rolled back: rmse_higher canary rmse 7.25 vs 4.0" in ended, ended
    assert "Canary in progress" not in text(browser, "main")
    assert "rolled back" in text(browser, "tr#v2"), text(browser, "tr#v2")
    assert "Re-promote v2" in text(browser, "tr#v2"), text(browser, "tr#v2")
    assert browser.errors(mark) == []
    screenshot(browser, shots / "journey-rollback.png")


def test_the_drift_page_draws_labelled_numeric_and_categorical_charts(
    browser: Browser, journey: Journey, shots: Path
) -> None:
    mark = show(browser, journey, f"/models/{MODEL}/drift")
    by_title = {c["title"]: c for c in charts(browser)}
    numeric = by_title["temp_min: reference vs current"]
    assert numeric["axes"][0] == "share of rows", numeric
    assert numeric["axes"][1], numeric
    assert len(numeric["ticks"]) >= 4, numeric
    assert numeric["marks"] >= 4, numeric
    assert all(_number(t) for t in numeric["ticks"]), numeric  # bin edges and shares
    categorical = by_title["weather: reference vs current"]
    assert categorical["axes"] == ["share of rows", "weather category"], categorical
    # Winter's categories, labelled under their bars (summer 2014 adds none).
    assert {"rain", "sun", "fog"} <= set(categorical["ticks"]), categorical
    assert categorical["marks"] >= 2 * 3, categorical
    assert browser.errors(mark) == []
    browser.evaluate(  # the categorical chart in the middle of the picture
        "[...document.querySelectorAll('svg.chart')].find(s => s.querySelector('title')"
        ".textContent.startsWith('weather:')).scrollIntoView({block: 'center'})"
    )
    screenshot(browser, shots / "journey-drift.png")


def test_two_runs_compare_side_by_side(browser: Browser, journey: Journey, shots: Path) -> None:
    runs = [f"run-{UID}-1", f"run-{UID}-2"]
    mark = show(browser, journey, f"/runs/compare?run={runs[0]}&run={runs[1]}")
    header = browser.evaluate(
        "[...document.querySelectorAll('table.compare thead th')].map(t => t.innerText)"
    )
    assert header == ["", *runs], header
    differs = browser.evaluate(
        "[...document.querySelectorAll('table.compare tr.differs')].map(r => r.innerText)"
    )
    assert "max_depth\t3\t6" in differs, differs
    assert "rmse\t4\t3.8" in differs, differs
    assert not any(row.startswith("fit_intercept") for row in differs), differs
    assert len(charts(browser)) >= 2  # a bar chart per metric
    assert browser.errors(mark) == []
    screenshot(browser, shots / "journey-compare.png")


def test_the_lineage_graph_reaches_the_datasets_sha256(
    browser: Browser, journey: Journey, shots: Path
) -> None:
    mark = show(browser, journey, f"/audit/lineage/{MODEL}/1")
    graph = text(browser, "figure svg.chart")
    assert "registry.approved" in graph, graph
    assert "deployment.promoted" in graph, graph
    assert journey.dataset.sha256[:12] in graph, graph  # the data's own chain, drawn
    facts = text(browser, "ol.timeline")
    assert journey.dataset.sha256 in facts
    assert browser.errors(mark) == []
    screenshot(browser, shots / "journey-lineage.png")


def test_an_approver_approves_from_the_page_and_the_audit_shows_who(
    browser: Browser, journey: Journey, shots: Path
) -> None:
    mark = show(browser, journey, f"/models/{MODEL}")
    form = "document.querySelector('form.decide[data-action$=\"/versions/3/\"]')"
    token = journey.story.tokens["approver"]
    browser.evaluate(
        f"(() => {{ const f = {form}; f.elements.token.value = {json.dumps(token)};"
        "f.elements.comment.value = 'checked the summer rows';"
        "f.querySelector('button[value=approve]').click(); })()"
    )
    assert browser.wait_until(f"{form}.querySelector('.decide-result').textContent") == "approved"
    row, deadline = "", time.monotonic() + 30  # the read model catches up: reload until
    while "user:approver" not in row and time.monotonic() < deadline:
        time.sleep(1)
        browser.goto(f"{journey.console}/models/{MODEL}")
        row = text(browser, "tr#v3")
    assert "approved" in row, row
    assert "checked the summer rows" in row, row
    assert browser.evaluate("document.querySelector('tr#v3 form.decide')") is None
    assert browser.errors(mark) == []
    screenshot(browser, shots / "journey-approved.png")
    show(browser, journey, f"/audit?subject={MODEL}&type=registry.approved")
    summaries = browser.evaluate(
        "[...document.querySelectorAll('ol.timeline summary')].map(e => e.innerText)"
    )
    assert len(summaries) == 3, summaries  # v1 and v2 by the setup, v3 from the page
    assert all("registry.approved" in e and "user:approver" in e for e in summaries), summaries
    assert any("lineage of v3" in e for e in summaries), summaries
    screenshot(browser, shots / "journey-audit.png")


@dataclass(frozen=True)
class Journey:
    """What the browser checks need from the scripted journey."""

    story: Story
    dataset: DatasetRef
    console: str
    setup_s: float


def screenshot(browser: Browser, path: Path) -> None:
    """The viewport as a PNG (1200x900)."""
    shot = base64.b64decode(browser.send("Page.captureScreenshot", format="png")["data"])
    assert shot.startswith(b"\x89PNG"), path
    path.write_bytes(shot)


def _number(tick: str) -> bool:
    try:
        float(tick.replace("%", "").replace("\u2212", "-"))
    except ValueError:
        return False
    return True
