"""The console as a real process on the local stack: real audit events reach its pages."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator
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
from driftline_contracts.values import ModelRef
from tests.signing import publish_as

pytestmark = [pytest.mark.integration]


@pytest.fixture(scope="module")
def console(local_stack_control: LocalStack) -> Iterator[ServiceProcess]:
    processes = start_services(local_stack_control, local_stack_control.info(), ["console"])
    try:
        wait_until_ready(processes, timeout_s=120)
        yield processes[0]
    finally:
        stop_services(local_stack_control, processes)


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
