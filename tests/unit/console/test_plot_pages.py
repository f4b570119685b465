"""Drift distributions per window (monitoring's API) and dataset profiles (validation's
published profile), drawn as labelled SVG plots."""

from __future__ import annotations

import re
from collections.abc import Callable

from starlette.testclient import TestClient

from driftline_contracts.events import DataValidated
from driftline_contracts.examples import example
from tests.unit.console.conftest import VIEWER_TOKEN, tokens
from tests.unit.console.fakes import FakeArtifacts, FakeUpstream
from tests.unit.console.samples import PROFILE, PROFILE_SHA, PROFILE_URI, WINDOWS, report

DRIFT = "/models/churn-clf/drift"
DATASET = example(DataValidated).dataset
PROFILE_PAGE = f"/datasets/{DATASET.name}/versions/{DATASET.version}"


def _monitoring() -> FakeUpstream:
    return FakeUpstream(windows=WINDOWS, reports={3: report(3), 2: report(2)})


def _figure(html: str, figure_id: str) -> str:
    found = re.search(rf'<figure[^>]*id="{figure_id}".*?</figure>', html, re.S)
    assert found is not None, figure_id
    return found.group(0)


def test_the_newest_window_is_drawn_reference_vs_current_per_feature(
    make_client: Callable[..., TestClient],
) -> None:
    upstream = _monitoring()
    html = make_client(upstream=upstream).get(DRIFT).text
    assert upstream.report_asks == [3]
    numeric = _figure(html, "dist-tenure_months")
    assert "tenure_months: reference vs current" in numeric
    assert numeric.count('class="chart-hist chart-series-0"') == 4  # reference, one bar a bin
    assert numeric.count('class="chart-hist chart-series-1"') == 4  # current, overlaid
    for edge in ("0", "12", "24", "36", "48"):
        assert f">{edge}</text>" in numeric  # bin edges on the x axis
    assert "share of rows" in numeric
    assert ">reference</text>" in numeric
    assert ">current</text>" in numeric
    categorical = _figure(html, "dist-plan")
    for label in ("basic", "premium", "(other)", "family &amp; &lt;friends&gt;"):
        assert f">{label}</text>" in categorical  # every category labelled, escaped
    assert "<friends>" not in html
    assert categorical.count('class="chart-bar chart-series-') == 8  # paired bars


def test_another_window_is_picked_by_its_number_and_listed_with_its_verdict(
    make_client: Callable[..., TestClient],
) -> None:
    upstream = _monitoring()
    html = make_client(upstream=upstream).get(DRIFT, params={"window": 2}).text
    assert upstream.report_asks == [2]
    assert '<tr class="chosen"><td><a href="/models/churn-clf/drift?window=2">w000002' in html
    assert "drifted" in html
    assert "no drift" in html
    one = make_client(upstream=_monitoring()).get(DRIFT, params={"feature": "plan"}).text
    assert 'id="dist-plan"' in one
    assert 'id="dist-tenure_months"' not in one


def test_bad_window_numbers_are_refused_and_an_unknown_one_says_so(
    make_client: Callable[..., TestClient],
) -> None:
    client = make_client(upstream=_monitoring())
    for bad in ("0", "-1", "x", str(2**31)):
        assert client.get(DRIFT, params={"window": bad}).status_code == 422, bad
    missing = client.get(DRIFT, params={"window": 9})
    assert missing.status_code == 200
    assert "Monitoring has no report of window 9" in missing.text


def test_monitoring_down_or_an_old_report_leave_the_rest_of_the_page(
    make_client: Callable[..., TestClient],
) -> None:
    down = make_client(upstream=FakeUpstream()).get(DRIFT)
    assert down.status_code == 200
    assert "Monitoring's windows are unavailable" in down.text
    assert "plan: chi2 p-value per window" in down.text  # the audit-stream charts still draw
    old = FakeUpstream(windows=WINDOWS, reports={3: {"window_id": "w3", "distributions": []}})
    html = make_client(upstream=old).get(DRIFT).text
    assert "carries no distributions" in html


def test_a_dataset_versions_profile_plots_every_column_and_the_null_rates(
    make_client: Callable[..., TestClient],
) -> None:
    artifacts = FakeArtifacts({PROFILE_URI: (PROFILE_SHA, PROFILE)})
    client = make_client(artifacts=artifacts)
    assert f'href="{PROFILE_PAGE}"' in client.get("/datasets").text  # linked from the list
    html = client.get(PROFILE_PAGE).text
    nulls = _figure(html, "nulls")
    assert "Null rate per column" in nulls
    assert ">tenure_months</text>" in nulls
    assert ">plan</text>" in nulls
    assert "plan: 0.2</title>" in nulls  # 200 of 1000 rows null
    assert "tenure_months: values" in html
    assert html.count('class="chart-hist chart-series-0"') == 3
    assert "plan: categories" in html
    assert ">(other)</text>" in html
    assert "10 null (1.0%)" in html
    assert DATASET.sha256 in html


def test_profile_pages_refuse_bad_paths_and_say_when_the_profile_is_unreadable(
    make_client: Callable[..., TestClient],
) -> None:
    tampered = FakeArtifacts({PROFILE_URI: ("f" * 64, PROFILE)})
    client = make_client(artifacts=tampered)
    unreadable = client.get(PROFILE_PAGE)
    assert unreadable.status_code == 200
    assert "could not be read" in unreadable.text
    assert client.get(f"/datasets/{DATASET.name}/versions/99").status_code == 404
    assert client.get("/datasets/nope/versions/1").status_code == 404
    assert client.get(f"/datasets/{DATASET.name}/versions/0").status_code == 422
    assert client.get(f"/datasets/{DATASET.name}/versions/x").status_code == 422
    assert client.get("/datasets/BAD%20NAME/versions/1").status_code == 422


def test_the_plot_pages_need_a_signed_in_reader(make_client: Callable[..., TestClient]) -> None:
    client = make_client(verify=tokens(), upstream=_monitoring())
    for page in (DRIFT, PROFILE_PAGE):
        answer = client.get(page)
        assert answer.status_code == 303, page
        assert answer.headers["location"].startswith("/signin?next=")
        viewer = client.get(page, headers={"Authorization": f"Bearer {VIEWER_TOKEN}"})
        assert viewer.status_code == 200, page
