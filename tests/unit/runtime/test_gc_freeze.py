"""A service process freezes its long-lived objects after startup and after later imports, so
the cycle collector's full passes under load walk only what requests made (20-40 ms each
before, about 1 ms after, measured in deployment under 1-row load)."""

from __future__ import annotations

import asyncio
import sys
import types

import pytest

from driftline.runtime import gc_freeze
from driftline.runtime.app import uvicorn_target


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """What the module asks of ``gc`` (never the real freeze: it would hold the test process's
    garbage for good)."""
    seen: list[str] = []
    monkeypatch.setattr(gc_freeze.gc, "collect", lambda: seen.append("collect") or 0)
    monkeypatch.setattr(gc_freeze.gc, "freeze", lambda: seen.append("freeze"))
    return seen


def test_a_freeze_follows_a_collection_only_when_modules_were_imported(
    calls: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    now = gc_freeze.freeze_if_imported(0)
    assert (now, calls) == (len(sys.modules), ["collect", "freeze"])
    assert gc_freeze.freeze_if_imported(now) == now
    assert calls == ["collect", "freeze"]  # nothing imported since: nothing done
    monkeypatch.setitem(sys.modules, "driftline_lazy_import", types.ModuleType("lazy"))
    assert gc_freeze.freeze_if_imported(now) == now + 1
    assert calls == ["collect", "freeze"] * 2


async def test_the_job_freezes_at_once_and_again_after_a_lazy_import(
    calls: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    job = asyncio.create_task(gc_freeze.freeze_long_lived_objects(check_every_s=0.01))
    try:
        await asyncio.sleep(0.05)
        assert calls == ["collect", "freeze"]
        monkeypatch.setitem(sys.modules, "driftline_lazy_import", types.ModuleType("lazy"))
        await asyncio.sleep(0.05)
        assert calls == ["collect", "freeze"] * 2
    finally:
        job.cancel()


def test_a_service_process_runs_the_job_a_runtime_in_a_test_does_not(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DRIFTLINE_AUTH__DISABLED", "true")
    monkeypatch.setenv("DRIFTLINE_SIGNING__DISABLED", "true")
    app, _ = uvicorn_target("deployment", 1)
    assert app.state.runtime.process_jobs == [gc_freeze.freeze_long_lived_objects]
