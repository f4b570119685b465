"""A console app over an in-memory read model filled with the contracts' example events."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi import FastAPI
from starlette.testclient import TestClient

from driftline.console.deps import ConsoleDeps, build_templates
from driftline.console.settings import ConsoleSection
from driftline.console.web.actions import actions_router
from driftline.console.web.audit_pages import audit_router
from driftline.console.web.pages import pages_router
from driftline.console.web.plot_pages import plot_pages_router
from driftline.console.web.session import CookieIdentity, Verifier
from driftline.console.web.signin import signin_router
from driftline.runtime.auth import BearerAuth
from driftline.runtime.auth_tokens import Principal, StaticTokens, parse_tokens
from driftline_contracts.events import (
    CanaryRolledBack,
    CanaryStarted,
    CanaryStepAdvanced,
    DataRejected,
    DataValidated,
    DriftDetected,
    ModelApproved,
    ModelPromoted,
    ModelRegistered,
    ModelTrained,
    TrainingStarted,
)
from driftline_contracts.examples import example
from driftline_contracts.values import ModelRef
from tests.unit.console.fakes import FakeArtifacts, FakeUpstream, InMemoryReadModel, audited

VIEWER_TOKEN = "viewer-token-0123456789"
APPROVER_TOKEN = "approver-token-0123456789"
V3 = ModelRef(name="churn-clf", version=3)


def lifecycle() -> InMemoryReadModel:
    """Data accepted and rejected, two runs, v2 approved and promoted, v3's canary rolled back,
    drift open."""
    model = InMemoryReadModel()
    trained = example(ModelTrained)
    rival = trained.model_copy(
        update={
            "run_id": "run-rival",
            "params": {"max_depth": 3},
            "metrics": {"accuracy": 0.85, "f1": 0.8},
        }
    )
    events = [
        example(DataValidated),
        example(DataRejected),
        example(TrainingStarted),
        trained,
        rival,
        example(ModelRegistered),
        example(ModelApproved),
        example(ModelPromoted),
        *(
            example(cls).model_copy(update={"model": V3, "canary_id": "canary-18"})
            for cls in (CanaryStarted, CanaryStepAdvanced, CanaryRolledBack)
        ),
        example(DriftDetected),
    ]
    model.feed(
        *(
            audited(e, id=f"e{i}", actor="user:approver" if i == 6 else "service:x")
            for i, e in enumerate(events)
        )
    )
    return model


def console_app(
    reader: InMemoryReadModel,
    *,
    verify: Verifier | None = None,
    upstream: FakeUpstream | None = None,
    page_size: int = 50,
    artifacts: FakeArtifacts | None = None,
) -> FastAPI:
    """The console's routers and sign-in layers, as ``build_http_app`` stacks them."""
    deps = ConsoleDeps(
        reader=reader,
        upstream=upstream or FakeUpstream(),
        templates=build_templates(),
        section=ConsoleSection(page_size=page_size),
        sign_in_required=verify is not None,
        verify=verify,
        artifacts=artifacts or FakeArtifacts(),
    )
    app = FastAPI()
    for router in (
        signin_router(deps),
        pages_router(deps),
        plot_pages_router(deps),
        audit_router(deps),
        actions_router(deps),
    ):
        app.include_router(router)
    app.add_middleware(CookieIdentity, verify=verify)
    if verify is not None:
        app.add_middleware(BearerAuth, verify=verify)
    return app


def tokens() -> Verifier:
    found: dict[str, Principal] = parse_tokens(
        f"{VIEWER_TOKEN} user:viewer viewer; {APPROVER_TOKEN} user:approver approver"
    )
    return StaticTokens(found)


@pytest.fixture
def client() -> TestClient:
    """An open console (anonymous auth) over the example lifecycle."""
    return TestClient(console_app(lifecycle()))


@pytest.fixture
def make_client() -> Callable[..., TestClient]:
    return lambda reader=None, **kw: TestClient(
        console_app(reader or lifecycle(), **kw), follow_redirects=False
    )
