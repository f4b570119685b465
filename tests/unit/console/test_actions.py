"""Approve / reject from the model page: the approver's own token, passed on to the registry."""

from __future__ import annotations

from collections.abc import Callable

from starlette.testclient import TestClient

from driftline_contracts.events import ModelRegistered
from driftline_contracts.examples import example
from driftline_contracts.values import ModelRef
from tests.unit.console.conftest import APPROVER_TOKEN, VIEWER_TOKEN, lifecycle, tokens
from tests.unit.console.fakes import FakeUpstream, audited

URL = "/models/churn-clf/versions/5/approve"


def _pending() -> object:
    reader = lifecycle()
    manual = example(ModelRegistered).model_copy(
        update={"model": ModelRef(name="churn-clf", version=5), "approval": "manual"}
    )
    reader.feed(audited(manual, id="pending-5"))
    return reader


def test_an_approver_sees_the_buttons_on_a_pending_version_a_viewer_does_not(
    make_client: Callable[..., TestClient],
) -> None:
    client = make_client(_pending(), verify=tokens())
    as_approver = client.get(
        "/models/churn-clf", headers={"Authorization": f"Bearer {APPROVER_TOKEN}"}
    ).text
    assert 'data-action="/models/churn-clf/versions/5/"' in as_approver
    assert "waiting for an approver" in as_approver
    as_viewer = client.get("/models/churn-clf", headers={"Authorization": f"Bearer {VIEWER_TOKEN}"})
    assert "waiting for an approver" in as_viewer.text
    assert 'class="decide' not in as_viewer.text


def test_the_decision_goes_to_the_registry_with_the_approvers_own_token(
    make_client: Callable[..., TestClient],
) -> None:
    upstream = FakeUpstream()
    client = make_client(_pending(), verify=tokens(), upstream=upstream)
    bearer = f"Bearer {APPROVER_TOKEN}"
    answer = client.post(URL, json={"comment": "looks right"}, headers={"Authorization": bearer})
    assert answer.status_code == 200
    assert upstream.decisions == [("churn-clf", 5, "approve", "looks right", bearer)]


def test_no_token_a_cookie_alone_or_a_viewer_cannot_decide(
    make_client: Callable[..., TestClient],
) -> None:
    upstream = FakeUpstream()
    client = make_client(_pending(), verify=tokens(), upstream=upstream)
    assert client.post(URL).status_code == 401
    client.get("/session", headers={"Authorization": f"Bearer {APPROVER_TOKEN}"})
    assert client.post(URL).status_code == 401  # the sign-in cookie is not a write's token
    viewer = client.post(URL, headers={"Authorization": f"Bearer {VIEWER_TOKEN}"})
    assert viewer.status_code == 403
    assert upstream.decisions == []


def test_the_registrys_refusal_reaches_the_page_and_bad_paths_do_not_reach_it(
    make_client: Callable[..., TestClient],
) -> None:
    upstream = FakeUpstream(decision=409)
    client = make_client(_pending(), verify=tokens(), upstream=upstream)
    bearer = {"Authorization": f"Bearer {APPROVER_TOKEN}"}
    refused = client.post(URL, headers=bearer)
    assert refused.status_code == 409
    assert refused.json() == {"detail": "refused"}
    assert client.post("/models/churn-clf/versions/5/promote", headers=bearer).status_code == 422
    assert client.post("/models/..%2Fx/versions/5/approve", headers=bearer).status_code in (
        404,
        422,
    )
    assert len(upstream.decisions) == 1
