"""Override, promote the canary, roll back / re-promote from the model page: shown only to who
may, sent with the caller's own token to the registry or deployment API, refusals shown."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from starlette.testclient import TestClient

from driftline.console.web.session import Verifier
from driftline.runtime.auth_tokens import StaticTokens, parse_tokens
from driftline_contracts.events import CanaryStarted, ModelRejected
from driftline_contracts.examples import example
from driftline_contracts.values import ModelRef
from tests.unit.console.conftest import APPROVER_TOKEN, VIEWER_TOKEN, lifecycle
from tests.unit.console.fakes import FakeUpstream, InMemoryReadModel, audited

ADMIN_TOKEN = "admin-token-0123456789"
PUBLISHER_TOKEN = "publisher-token-0123456789"
PAGE = "/models/churn-clf"
OVERRIDE = "/models/churn-clf/versions/4/override"
ROLL_BACK = "/models/churn-clf/versions/1/promote"
PROMOTE = "/models/churn-clf/promote"


def roles() -> Verifier:
    return StaticTokens(
        parse_tokens(
            f"{VIEWER_TOKEN} user:viewer viewer; {APPROVER_TOKEN} user:approver approver; "
            f"{ADMIN_TOKEN} user:admin admin; {PUBLISHER_TOKEN} user:pub publisher"
        )
    )


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def gate_rejected() -> InMemoryReadModel:
    """The lifecycle (v1 retired, v2 champion, v3 rolled back) plus v4 rejected by its gates."""
    reader = lifecycle()
    rejected = example(ModelRejected).model_copy(
        update={"model": ModelRef(name="churn-clf", version=4), "rejected_by": "service:registry"}
    )
    reader.feed(audited(rejected, id="rejected-4"))
    return reader


def canary_running() -> InMemoryReadModel:
    reader = gate_rejected()
    started = example(CanaryStarted).model_copy(
        update={"model": ModelRef(name="churn-clf", version=5), "canary_id": "canary-20"}
    )
    reader.feed(audited(started, id="canary-5"))
    return reader


def test_an_approver_gets_override_and_roll_back_a_viewer_gets_neither(
    make_client: Callable[..., TestClient],
) -> None:
    client = make_client(gate_rejected(), verify=roles())
    approver = client.get(PAGE, headers=bearer(APPROVER_TOKEN)).text
    assert f'data-action="{OVERRIDE}"' in approver
    assert f'data-action="{ROLL_BACK}"' in approver
    assert "Roll back to v1" in approver
    assert "Re-promote v3" in approver  # the rolled-back canary loaded: it may serve again
    assert 'data-action="/models/churn-clf/versions/2/promote"' not in approver  # serving
    assert 'data-action="/models/churn-clf/versions/3/override"' not in approver  # not gates
    viewer = client.get(PAGE, headers=bearer(VIEWER_TOKEN)).text
    assert 'class="action' not in viewer
    assert "<th>Actions</th>" not in viewer
    admin = client.get(PAGE, headers=bearer(ADMIN_TOKEN)).text
    assert f'data-action="{ROLL_BACK}"' in admin
    assert f'data-action="{OVERRIDE}"' not in admin  # the registry lets approvers only


def test_while_a_canary_runs_the_page_offers_promoting_it_not_a_roll_back(
    make_client: Callable[..., TestClient],
) -> None:
    client = make_client(canary_running(), verify=roles())
    html = client.get(PAGE, headers=bearer(APPROVER_TOKEN)).text
    assert f'data-action="{PROMOTE}"' in html
    assert "Promote v5 now" in html
    assert f'data-action="{ROLL_BACK}"' not in html
    assert "after the running canary ends" in html
    assert 'id="promote-canary"' not in client.get(PAGE, headers=bearer(VIEWER_TOKEN)).text


@pytest.mark.parametrize(
    ("url", "body", "service", "path", "sent", "token"),
    [
        (OVERRIDE, {"reason": "gate too strict"}, "registry",
         "/v1/models/churn-clf/versions/4/override", {"reason": "gate too strict"}, APPROVER_TOKEN),
        (ROLL_BACK, {"reason": "v2 misroutes"}, "deployment",
         "/v1/models/churn-clf/versions/1/promote", {"reason": "v2 misroutes"}, ADMIN_TOKEN),
        (PROMOTE, {"version": 5}, "deployment", "/v1/models/churn-clf/promote", {"version": 5},
         APPROVER_TOKEN),
        (PROMOTE, None, "deployment", "/v1/models/churn-clf/promote", {}, APPROVER_TOKEN),
    ],
)  # fmt: skip
def test_each_action_reaches_its_service_with_the_callers_own_token(
    make_client: Callable[..., TestClient],
    url: str,
    body: dict[str, object] | None,
    service: str,
    path: str,
    sent: dict[str, object],
    token: str,
) -> None:
    upstream = FakeUpstream()
    client = make_client(canary_running(), verify=roles(), upstream=upstream)
    answer = client.post(url, json=body, headers=bearer(token))
    assert answer.status_code == 200
    assert answer.json() == {"detail": "done"}
    assert upstream.writes == [(service, path, sent, f"Bearer {token}")]


@pytest.mark.parametrize(
    ("url", "body"),
    [(OVERRIDE, {"reason": "x"}), (ROLL_BACK, {"reason": "x"}), (PROMOTE, {"version": 5})],
)
def test_without_a_token_or_the_role_nothing_is_sent(
    make_client: Callable[..., TestClient], url: str, body: dict[str, object]
) -> None:
    upstream = FakeUpstream()
    client = make_client(canary_running(), verify=roles(), upstream=upstream)
    assert client.post(url, json=body).status_code == 401
    client.get("/session", headers=bearer(APPROVER_TOKEN))
    assert client.post(url, json=body).status_code == 401  # the sign-in cookie is not enough
    assert client.post(url, json=body, headers=bearer(VIEWER_TOKEN)).status_code == 403
    assert client.post(url, json=body, headers=bearer(PUBLISHER_TOKEN)).status_code == 403
    assert client.post(url, json=body, headers=bearer("unknown-token-0000")).status_code == 401
    if url == OVERRIDE:
        assert client.post(url, json=body, headers=bearer(ADMIN_TOKEN)).status_code == 403
    assert upstream.writes == []


@pytest.mark.parametrize(
    ("url", "body"),
    [
        (OVERRIDE, {}),
        (OVERRIDE, {"reason": ""}),
        (OVERRIDE, {"reason": "x" * 1501}),
        (OVERRIDE, {"reason": "x", "approver": "user:someone-else"}),
        (ROLL_BACK, None),
        (ROLL_BACK, {"reason": "x" * 257}),
        (PROMOTE, {"version": 0}),
        (PROMOTE, {"version": "five"}),
        ("/models/churn-clf/versions/0/promote", {"reason": "x"}),
        ("/models/churn-clf/versions/x/override", {"reason": "x"}),
        ("/models/Not%20A%20Model/promote", {"version": 1}),
    ],
)
def test_bad_input_is_refused_before_any_service_is_asked(
    make_client: Callable[..., TestClient], url: str, body: dict[str, object] | None
) -> None:
    upstream = FakeUpstream()
    client = make_client(canary_running(), verify=roles(), upstream=upstream)
    assert client.post(url, json=body, headers=bearer(APPROVER_TOKEN)).status_code == 422
    assert upstream.writes == []


def test_the_services_refusal_comes_back_with_its_status_and_reason(
    make_client: Callable[..., TestClient],
) -> None:
    client = make_client(gate_rejected(), verify=roles(), upstream=FakeUpstream(decision=409))
    refused = client.post(ROLL_BACK, json={"reason": "x"}, headers=bearer(APPROVER_TOKEN))
    assert refused.status_code == 409
    assert refused.json() == {"detail": "refused by deployment"}
