"""The predict suite's micro-batching row: the spec it applies turns batching on for its own
model, and the aim against MLServer's adaptive batching is judged on medians over rounds."""

from __future__ import annotations

import pytest

from bench.predict import (
    DRIFTLINE,
    DRIFTLINE_ASYNC,
    DRIFTLINE_KAFKA,
    DRIFTLINE_NOLOG,
    MLSERVER,
    SIZES,
    STARLETTE,
    verdicts,
)
from bench.predict_batching import (
    AIM,
    BATCHED_MODEL,
    DRIFTLINE_BATCHED,
    batching_aim,
    batching_spec,
)
from bench.predict_load import Load
from driftline.training.retrain_policy import training_hash
from driftline_contracts.modelspec import MicroBatching, ModelSpec, spec_hash


def loads(*pairs: tuple[float, float]) -> list[Load]:
    """One ``Load`` per round: (requests per second, p99 ms)."""
    return [Load(requests=round(rate * 10), seconds=10.0, p50_ms=1.0, p99_ms=p99)
            for rate, p99 in pairs]  # fmt: skip


def test_the_aim_is_met_at_mlservers_throughput_and_half_its_p99() -> None:
    shown, met = batching_aim(loads((1500, 50.0)), loads((1500, 100.0)))
    assert met
    assert shown == "1,500 vs 1,500 req/s (1.00x), p99 50.00 vs 100.00 ms"


@pytest.mark.parametrize(
    ("driftline", "mlserver"),
    [
        ([(1499, 10.0)], [(1500, 100.0)]),  # fewer requests/s, however low the p99
        ([(3000, 50.1)], [(1500, 100.0)]),  # more than half of MLServer's p99
    ],
)
def test_the_aim_is_missed_below_its_throughput_or_above_half_its_p99(
    driftline: list[tuple[float, float]], mlserver: list[tuple[float, float]]
) -> None:
    assert batching_aim(loads(*driftline), loads(*mlserver))[1] is False


def test_the_aim_reads_medians_so_one_noisy_round_does_not_decide() -> None:
    driftline = loads((2000, 10.0), (2100, 12.0), (200, 900.0))  # one round hit by the CI run
    mlserver = loads((1800, 90.0), (1900, 95.0), (5000, 1.0))
    shown, met = batching_aim(driftline, mlserver)
    assert met
    assert "2,000 vs 1,900 req/s" in shown
    assert "p99 12.00 vs 90.00 ms" in shown


def test_the_applied_spec_turns_micro_batching_on_for_its_own_model_only() -> None:
    event = batching_spec()
    assert event.model == BATCHED_MODEL
    spec = ModelSpec.model_validate(event.spec)
    assert event.spec_hash == spec_hash(spec)
    # what deployment's on_model_spec_applied reads from the event
    option = MicroBatching.model_validate(event.spec["serving"]["micro_batching"])  # type: ignore[call-overload,index]
    assert option == MicroBatching(enabled=True)  # the documented defaults, on
    off = ModelSpec.model_validate({**event.spec, "serving": {}})
    assert training_hash(event.spec) == training_hash(off.model_dump(mode="json"))


def test_the_verdicts_end_with_the_micro_batching_aim() -> None:
    found = {
        name: {size: loads((1000, 5.0)) for size in SIZES}
        for name in (STARLETTE, DRIFTLINE, DRIFTLINE_ASYNC, DRIFTLINE_NOLOG, DRIFTLINE_KAFKA,
                     *MLSERVER.values())
    }  # fmt: skip
    found[MLSERVER["batching"]] = {size: loads((1200, 80.0)) for size in SIZES}
    found[DRIFTLINE_BATCHED] = {size: loads((1300, 30.0)) for size in SIZES}
    lines = verdicts(found)
    row = next(line for line in lines if line.startswith(f"| {AIM} |"))
    assert "1,300 vs 1,200 req/s (1.08x), p99 30.00 vs 80.00 ms" in row
    assert row.endswith("| yes |")
    found[DRIFTLINE_BATCHED] = {size: loads((1300, 41.0)) for size in SIZES}
    assert next(line for line in verdicts(found) if line.startswith(f"| {AIM} |")).endswith(
        "| **no** |"
    )
