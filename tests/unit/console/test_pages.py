"""Every page rendered from a read model of example events: what a user would see."""

from __future__ import annotations

import re
from collections.abc import Callable

from starlette.testclient import TestClient

from driftline_contracts.events import CanaryRolledBack, DataRejected, DriftDetected, ModelTrained
from driftline_contracts.examples import SHA_A, example
from tests.unit.console.conftest import lifecycle
from tests.unit.console.fakes import FakeUpstream, InMemoryReadModel, audited


def _text(html: str) -> str:
    """The page's visible text, tags removed and whitespace collapsed."""
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def test_overview_shows_each_model_with_champion_canary_drift_and_training(
    client: TestClient,
) -> None:
    page = client.get("/")
    assert page.status_code == 200
    text = _text(page.text)
    assert "churn-clf" in text
    assert "v2" in text  # the promoted champion
    assert "last: v3 rolled back" in text
    assert f"open · {example(DriftDetected).severity} · tenure_months" in text
    assert f"trained · {example(ModelTrained).run_id}" in text or "trained · run-rival" in text


def test_overview_shows_service_readiness_and_the_live_feed(client: TestClient) -> None:
    html = client.get("/").text
    assert "audit: ready" in _text(html)
    assert "registry: unreachable" in _text(html)
    assert 'sse-connect="/feed"' in html
    assert 'hx-ext="sse"' in html
    assert 'sse-swap="audit"' in html  # the event name /feed sends (test_feed)
    assert "deployment.canary-rolled-back" in _text(html)  # newest events in the feed


def test_model_page_shows_versions_gates_approver_and_the_rollback(client: TestClient) -> None:
    page = client.get("/models/churn-clf")
    text = _text(page.text)
    assert "champion" in text
    assert "min_accuracy" in text
    assert "user:approver" in text or example_approver() in text
    rolled = example(CanaryRolledBack)
    assert "rolled back" in text
    assert rolled.reasons[0].code in text
    assert rolled.results[0].metric in text
    assert "fail" in text


def example_approver() -> str:
    from driftline_contracts.events import ModelApproved

    return example(ModelApproved).approver


def test_unknown_model_is_404_and_a_hostile_name_is_refused(client: TestClient) -> None:
    assert client.get("/models/nobody").status_code == 404
    assert client.get("/models/%3Cscript%3E").status_code == 422


def test_drift_page_draws_a_labelled_chart_per_feature_and_the_episode(
    client: TestClient,
) -> None:
    html = client.get("/models/churn-clf/drift").text
    assert html.count('<svg class="chart"') == 2
    assert "tenure_months: psi statistic per window" in html
    assert "plan: chi2 p-value per window" in html  # a test's p-value, held to its threshold
    assert "window end (UTC)" in html
    assert example(DriftDetected).drift_id in _text(html)
    assert "open" in _text(html)


def test_datasets_show_verdicts_and_reasons_and_filter_by_verdict(client: TestClient) -> None:
    reason = example(DataRejected).reasons[0].code
    assert reason in client.get("/datasets").text
    accepted = _text(client.get("/datasets", params={"verdict": "accepted"}).text)
    assert "accepted" in accepted
    assert reason not in accepted
    assert client.get("/datasets", params={"verdict": "maybe"}).status_code == 422


def test_runs_table_and_compare_side_by_side(client: TestClient) -> None:
    trained = example(ModelTrained)
    runs = _text(client.get("/runs").text)
    assert trained.run_id in runs
    assert "run-rival" in runs
    html = client.get("/runs/compare", params=[("run", trained.run_id), ("run", "run-rival")]).text
    assert '<tr class="differs"><th>accuracy' in html
    assert "max_depth" in html
    assert "accuracy by run" in html  # one labelled bar chart per metric


def test_audit_timeline_filters_by_type_and_shows_payloads(client: TestClient) -> None:
    html = client.get("/audit", params={"type": "rolled-back"}).text
    assert "deployment.canary-rolled-back" in _text(html)
    assert "data.validated" not in _text(html)
    assert "&#34;reasons&#34;" in html or '"reasons"' in html  # the payload, pretty-printed
    assert 'hx-get="/audit/verify"' in html


def test_verify_fragment_and_lineage_graph_from_the_audit_service(
    make_client: Callable[..., TestClient],
) -> None:
    step = {"event_id": "x", "type": "io.driftline.data.arrived.v1", "subject": "churn",
            "actor": "pipeline:etl", "time": "2025-01-06T09:00:00Z", "correlation_id": "c",
            "causation_id": None, "facts": {"sha256": SHA_A}}  # fmt: skip
    lineage = {"steps": [step, {**step, "type": "io.driftline.registry.approved.v1"}], "data": []}
    client = make_client(upstream=FakeUpstream(lineage=lineage))
    assert "chain verified" in client.get("/audit/verify").text
    html = client.get("/audit/lineage/churn-clf/2").text
    assert f"sha256={SHA_A}" in html
    assert html.count('class="chart-node"') == 2
    missing = make_client(upstream=FakeUpstream(lineage=None))
    assert missing.get("/audit/lineage/churn-clf/9").status_code == 404


def test_hostile_event_text_is_escaped(make_client: Callable[..., TestClient]) -> None:
    reader = InMemoryReadModel()
    event = audited(example(DataRejected), id="evil", actor="user:<script>alert(1)</script>")
    reader.feed(event)
    html = make_client(reader).get("/audit").text
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;" in html


def test_lists_are_paged_and_links_keep_the_filters(
    make_client: Callable[..., TestClient],
) -> None:
    client = make_client(lifecycle(), page_size=2)
    html = client.get("/audit", params={"actor": "service"}).text
    assert "/audit?actor=service&amp;page=2" in html
    second = client.get("/audit", params={"actor": "service", "page": 2}).text
    assert "page 2" in second
    assert "/audit?actor=service&amp;page=1" in second


def test_every_asset_ships_in_the_package_and_pages_load_nothing_from_elsewhere(
    client: TestClient,
) -> None:
    html = client.get("/").text
    assets = re.findall(r'(?:src|href)="(/static/[^"]+)"', html)
    assert len(assets) == 4
    for asset in assets:
        assert client.get(asset).status_code == 200
    assert not re.search(r'(?:src|href)="(?:https?:)?//', html)
    assert "htmx" in client.get("/static/htmx.min.js").text
    assert client.get("/static/..%2Fapp.py").status_code == 404
    assert "default-src 'self'" in client.get("/").headers["content-security-policy"]


def test_model_page_lists_the_rolled_back_canary_step_by_step(client: TestClient) -> None:
    text = _text(client.get("/models/churn-clf").text)
    assert "v3 · rolled back canary-18" in text
    assert "advanced to step 2" in text
    assert "rolled back at step 3" in text


def test_a_running_canary_is_polled_so_its_steps_appear_without_a_reload(
    make_client: Callable[..., TestClient],
) -> None:
    from driftline_contracts.events import CanaryStarted, CanaryStepAdvanced

    reader = InMemoryReadModel()
    reader.feed(audited(example(CanaryStarted), id="s"))
    client = make_client(reader)
    page = client.get("/models/churn-clf").text
    assert 'hx-get="/models/churn-clf/rollouts" hx-trigger="every 5s"' in page
    reader.feed(audited(example(CanaryStepAdvanced), id="a"))
    fragment = client.get("/models/churn-clf/rollouts").text
    assert "advanced to step 2" in _text(fragment)
    assert "<html" not in fragment
    reader.feed(audited(example(CanaryRolledBack), id="b"))
    ended = client.get("/models/churn-clf/rollouts").text
    assert "rolled back at step 3" in _text(ended)
    assert "hx-trigger" not in ended  # polling stops once the canary has ended


def test_the_polled_rollouts_ask_for_a_reload_once_the_canary_has_ended(
    make_client: Callable[..., TestClient],
) -> None:
    """The page above the section (champion, statuses, "Promote vN now") is stale once the
    canary ends: the last poll tells htmx to reload it, a poll of a running one does not."""
    from driftline_contracts.events import CanaryStarted

    reader = InMemoryReadModel()
    reader.feed(audited(example(CanaryStarted), id="s"))
    client = make_client(reader)
    assert "hx-refresh" not in client.get("/models/churn-clf/rollouts").headers
    reader.feed(audited(example(CanaryRolledBack), id="b"))
    ended = client.get("/models/churn-clf/rollouts")
    assert ended.headers["hx-refresh"] == "true"
    assert "rolled back at step 3" in _text(ended.text)
    assert "Canary in progress" not in client.get("/models/churn-clf").text  # what it reloads
