"""Rollout use cases on in-memory ports: approvals, canary steps, promotion by every route."""

from __future__ import annotations

import pytest

from driftline.deployment.errors import NoChallengerError, UnknownModelError, UnknownVersionError
from driftline.deployment.rollout.approval import approve_version
from driftline.deployment.rollout.canary import judge_rollout
from driftline.deployment.rollout.promotion import promote_challenger, promote_version
from driftline.deployment.settings import DeploymentSection
from driftline_contracts.events.deployment import (
    CanaryRolledBack,
    CanaryStarted,
    CanaryStepAdvanced,
    ModelPromoted,
)
from driftline_contracts.events.registry import ModelApproved
from driftline_contracts.examples import example
from driftline_contracts.modelspec import CanaryPolicy
from driftline_contracts.values import ArtifactRef, ModelRef
from tests.unit.deployment.fakes import (
    FakeCanaryTraffic,
    FakeModelLoader,
    FakeRollouts,
    FakeShadowAnswers,
    Outbox,
)
from tests.unit.deployment.test_judge_window import _regression_rows

SECTION = DeploymentSection()


def approved(version: int, uri: str = "") -> ModelApproved:
    base = example(ModelApproved)
    assert isinstance(base, ModelApproved)
    artifact = ArtifactRef(
        uri=uri or f"s3://driftline/m/{version}.skops", sha256=f"{version:x}" * 64,
        media_type="application/octet-stream", size_bytes=10,
    )  # fmt: skip
    return base.model_copy(
        update={"model": ModelRef(name="m", version=version), "artifact": artifact}
    )


async def approve(rollouts: FakeRollouts, outbox: Outbox, version: int, uri: str = "") -> None:
    loader = FakeModelLoader(frozenset({uri}) if uri else frozenset())
    await approve_version(
        approved(version, uri), f"evt-{version}", rollouts=rollouts, models=loader, emit=outbox
    )


async def running_canary(steps: list[float]) -> tuple[FakeRollouts, Outbox, str]:
    """Champion v1 and a canary of v2 on ``steps`` that may be judged at once."""
    rollouts, outbox = FakeRollouts(), Outbox()
    rollouts.policies["m"] = CanaryPolicy(steps=steps, min_requests=1, min_duration_s=0)
    await approve(rollouts, outbox, 1)
    await approve(rollouts, outbox, 2)
    started = outbox.events[-1]
    assert isinstance(started, CanaryStarted)
    return rollouts, Outbox(), started.canary_id


async def judge(rollouts: FakeRollouts, outbox: Outbox, canary_id: str, rows: list) -> str | None:
    return await judge_rollout(
        canary_id, SECTION, rollouts=rollouts, traffic=FakeCanaryTraffic(rows),
        shadows=FakeShadowAnswers(), emit=outbox,
    )  # fmt: skip


async def test_the_first_approved_version_is_promoted_directly() -> None:
    rollouts, outbox = FakeRollouts(), Outbox()
    await approve(rollouts, outbox, 1)
    [event] = outbox.events
    assert isinstance(event, ModelPromoted)
    assert (event.via, event.model.version, event.previous, event.canary_id) == (
        "direct",
        1,
        None,
        None,
    )
    assert rollouts.champions == {"m": 1}


async def test_an_unloadable_version_is_recorded_and_announces_nothing() -> None:
    rollouts, outbox = FakeRollouts(), Outbox()
    await approve(rollouts, outbox, 1, uri="s3://driftline/m/evil.pkl")
    assert outbox.events == []
    assert rollouts.versions[("m", 1)]["status"] == "load_failed"
    assert rollouts.champions == {}


async def test_an_approval_seen_twice_changes_nothing_the_second_time() -> None:
    rollouts, outbox = FakeRollouts(), Outbox()
    await approve(rollouts, outbox, 1)
    await approve(rollouts, outbox, 1)
    assert len(outbox.events) == 1


async def test_a_newer_approval_supersedes_the_running_canary() -> None:
    rollouts, outbox = FakeRollouts(), Outbox()
    for version in (1, 2, 3):
        await approve(rollouts, outbox, version)
    kinds = [type(e).__name__ for e in outbox.events]
    assert kinds == ["ModelPromoted", "CanaryStarted", "CanaryRolledBack", "CanaryStarted"]
    superseded = outbox.events[2]
    assert isinstance(superseded, CanaryRolledBack)
    assert superseded.reasons[0].code == "superseded"
    running = (await rollouts.deployment("m")).canary
    assert running is not None
    assert running.challenger.model.version == 3


async def test_a_passing_canary_advances_then_is_promoted_with_its_results() -> None:
    rollouts, outbox, canary_id = await running_canary([25.0, 50.0])
    good = _regression_rows(1, canary_sd=0.6, shift=0.0)
    assert await judge(rollouts, outbox, canary_id, good) == "advance"
    assert await judge(rollouts, outbox, canary_id, good) == "promote"
    advanced, promoted = outbox.events
    assert isinstance(advanced, CanaryStepAdvanced)
    assert isinstance(promoted, ModelPromoted)
    assert (promoted.via, promoted.canary_id, promoted.promoted_by) == ("canary", canary_id, None)
    assert promoted.previous == ModelRef(name="m", version=1)
    assert promoted.results
    assert rollouts.champions == {"m": 2}
    assert rollouts.canaries[canary_id]["status"] == "promoted"
    assert rollouts.canaries[canary_id]["last_report"]["verdict"] == "pass"


async def test_a_failing_canary_is_rolled_back_and_the_champion_stays() -> None:
    rollouts, outbox, canary_id = await running_canary([25.0, 50.0])
    worse = _regression_rows(2, canary_sd=3.0, shift=0.0)
    assert await judge(rollouts, outbox, canary_id, worse) == "roll_back"
    [event] = outbox.events
    assert isinstance(event, CanaryRolledBack)
    assert event.verdict == "fail"
    assert rollouts.champions == {"m": 1}
    assert rollouts.canaries[canary_id]["status"] == "rolled_back"


async def test_a_step_without_canary_requests_is_not_judged() -> None:
    rollouts, outbox, canary_id = await running_canary([25.0, 50.0])
    assert await judge(rollouts, outbox, canary_id, []) is None
    assert outbox.events == []


async def test_an_operator_promotes_the_running_challenger() -> None:
    rollouts, outbox, canary_id = await running_canary([25.0, 50.0])
    event = await promote_challenger("m", "user:ada", 2, rollouts=rollouts, emit=outbox)
    assert outbox.events == [event]
    assert (event.via, event.promoted_by, event.canary_id) == ("manual", "user:ada", canary_id)
    assert event.previous == ModelRef(name="m", version=1)
    assert rollouts.champions == {"m": 2}
    assert rollouts.canaries[canary_id]["status"] == "promoted"


async def test_manual_promotion_refuses_another_version_or_no_challenger() -> None:
    rollouts, outbox, _ = await running_canary([25.0, 50.0])
    with pytest.raises(NoChallengerError, match="version 2, not 3"):
        await promote_challenger("m", "user:ada", 3, rollouts=rollouts, emit=outbox)
    await promote_challenger("m", "user:ada", rollouts=rollouts, emit=outbox)
    with pytest.raises(NoChallengerError):
        await promote_challenger("m", "user:ada", rollouts=rollouts, emit=outbox)
    with pytest.raises(UnknownModelError):
        await promote_challenger("other", "user:ada", rollouts=rollouts, emit=outbox)
    assert len(outbox.events) == 1


async def test_an_operator_rolls_back_to_an_earlier_version_and_re_promotes_the_newer() -> None:
    rollouts, outbox, canary_id = await running_canary([25.0, 50.0])
    await promote_challenger("m", "user:ada", 2, rollouts=rollouts, emit=outbox)
    back = await promote_version(ModelRef(name="m", version=1), "user:ada", "v2 misroutes refunds",
                                 rollouts=rollouts, emit=outbox)  # fmt: skip
    assert rollouts.champions == {"m": 1}
    assert (back.via, back.promoted_by, back.reason) == (
        "manual",
        "user:ada",
        "v2 misroutes refunds",
    )
    assert back.previous == ModelRef(name="m", version=2)
    assert back.canary_id is None
    assert back.artifact == rollouts.versions[("m", 1)]["artifact"], "the version's own artifact"
    again = await promote_version(ModelRef(name="m", version=2), "user:bo", "fixed upstream",
                                  rollouts=rollouts, emit=outbox)  # fmt: skip
    assert (rollouts.champions, again.previous) == ({"m": 2}, ModelRef(name="m", version=1))
    assert outbox.events[-2:] == [back, again]
    assert rollouts.canaries[canary_id]["status"] == "promoted", "ended rollouts stay as they were"


async def test_promoting_a_version_is_refused_mid_rollout_or_for_what_never_loaded() -> None:
    rollouts, outbox, _ = await running_canary([25.0, 50.0])
    v1 = ModelRef(name="m", version=1)
    with pytest.raises(NoChallengerError, match="rollout running"):
        await promote_version(v1, "user:ada", "r", rollouts=rollouts, emit=outbox)
    await promote_challenger("m", "user:ada", rollouts=rollouts, emit=outbox)
    with pytest.raises(NoChallengerError, match="already serving"):
        await promote_version(ModelRef(name="m", version=2), "user:ada", "r",
                              rollouts=rollouts, emit=outbox)  # fmt: skip
    rollouts.versions[("m", 5)] = {"artifact": None, "status": "load_failed"}
    for missing in (ModelRef(name="m", version=5), ModelRef(name="m", version=9)):
        with pytest.raises(UnknownVersionError, match="never loaded"):
            await promote_version(missing, "user:ada", "r", rollouts=rollouts, emit=outbox)
    with pytest.raises(UnknownModelError):
        await promote_version(ModelRef(name="x", version=1), "user:ada", "r",
                              rollouts=rollouts, emit=outbox)  # fmt: skip
    assert rollouts.champions == {"m": 2}
