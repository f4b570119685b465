"""Steps the deployment integration tests share: apply a spec, upload and approve a model."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import skops.io as sio
from sqlalchemy import select

from driftline.deployment.tables import canary_policies
from driftline.runtime.service import ServiceRuntime
from driftline.stack.info import StackInfo
from driftline_contracts.events.registry import ModelApproved
from driftline_contracts.events.spec import ModelSpecApplied
from driftline_contracts.examples import example
from driftline_contracts.values import ArtifactRef, ModelRef
from tests.signing import publish_signed


async def until(check: Callable[[], Awaitable[Any]], timeout_s: float = 30) -> Any:
    """Poll ``check`` until it returns something truthy; that value."""
    async with asyncio.timeout(timeout_s):
        while True:
            found = await check()
            if found:
                return found
            await asyncio.sleep(0.2)


async def apply_spec(
    stack: StackInfo, name: str, canary: dict[str, Any], runtime: ServiceRuntime | None = None
) -> None:
    """Publish a spec with this canary policy; with ``runtime``, wait until it stored it."""
    spec = example(ModelSpecApplied).model_copy(
        update={"model": name, "spec": {"model": name, "canary": canary}}
    )
    await publish_signed(stack, spec, source="cli", actor="user:t")  # by the registry
    if runtime is None:
        return

    async def stored() -> Any:
        async with runtime.units() as uow:
            return await uow.session.scalar(
                select(canary_policies.c.policy).where(canary_policies.c.model == name)
            )

    await until(stored)


async def upload(runtime: ServiceRuntime, name: str, version: int, blob: bytes) -> ArtifactRef:
    """Store model bytes where the registry would; their reference."""
    stored = await runtime.store.put_bytes(f"models/{name}/v{version}.skops", blob)
    return ArtifactRef(
        uri=stored.uri, sha256=stored.sha256, media_type="application/vnd.skops",
        size_bytes=stored.size_bytes,
    )  # fmt: skip


async def approve(stack: StackInfo, name: str, version: int, artifact: ArtifactRef) -> str:
    """Publish ``ModelApproved`` as the registry would; its event id."""
    event = example(ModelApproved).model_copy(
        update={"model": ModelRef(name=name, version=version), "artifact": artifact}
    )
    sent = await publish_signed(
        stack, event, source="driftline/registry", actor="service:registry"
    )  # signed with the registry's key, as deployment requires
    return sent.id


async def deploy(
    stack: StackInfo, runtime: ServiceRuntime, name: str, version: int, model: Any
) -> str:
    """Upload ``model`` (skops) and approve it as ``name`` v``version``; the approval's id."""
    artifact = await upload(runtime, name, version, sio.dumps(model))
    return await approve(stack, name, version, artifact)


async def predict_with_feedback(
    http: httpx.AsyncClient, name: str, rows: list[dict[str, Any]], labels: list[int],
    batch: list[int],
) -> list[dict[str, Any]]:  # fmt: skip
    """Predict ``rows[i]`` for each index of ``batch`` in one request and send their true
    labels back; the predictions."""
    answer = await http.post(
        f"/v1/models/{name}/predict", json={"instances": [rows[i] for i in batch]}
    )
    assert answer.status_code == 200, answer.text
    served: list[dict[str, Any]] = answer.json()["predictions"]
    feedback = {p["request_id"]: labels[i] for p, i in zip(served, batch, strict=True)}
    sent = await http.post(f"/v1/models/{name}/feedback", json={"labels": feedback})
    assert sent.status_code == 200, sent.text
    return served
