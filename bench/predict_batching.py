"""The predict suite's micro-batching row: a second model whose spec turns micro-batching on.

Micro-batching is a per-model spec option (``serving.micro_batching``) that deployment keeps
beside the canary policy and reads with routing, so the suite serves it as a model of its own:
a ``ModelSpecApplied`` signed as the registry's (what ``driftline apply`` leads to), then the
same fitted model approved under that name. The aim compares it with MLServer's adaptive
batching on 1-row requests: at least its throughput at no more than half its p99.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import time
from collections.abc import Sequence

import asyncpg

from bench.driftline_side import publish_signed
from bench.predict_load import Load
from driftline.registry.events import REGISTRY_ACTOR, spec_applied
from driftline.stack import StackInfo
from driftline_contracts.events.spec import ModelSpecApplied
from driftline_contracts.modelspec import ModelSpec, spec_hash

BATCHED_MODEL = "bench-predict-batched"
DRIFTLINE_BATCHED = "Driftline (log, micro-batching on)"
AIM = "throughput ≥ MLServer's adaptive batching at a p99 at most half of its (1 row)"


class BatchingNotAppliedError(RuntimeError):
    """Deployment did not keep the spec's micro-batching option in time."""


def batching_spec(model: str = BATCHED_MODEL) -> ModelSpecApplied:
    """The event ``driftline apply`` leads to for a spec with micro-batching on (defaults)."""
    spec = ModelSpec.model_validate(
        {
            "model": model,
            "dataset": "breast-cancer",
            "target": "target",
            "task": "classification",
            "trainer": {"estimator": "sklearn.linear_model.LogisticRegression"},
            "serving": {"micro_batching": {"enabled": True}},
        }
    )
    return spec_applied(spec, spec_hash(spec))


async def apply_batching(
    info: StackInfo, model: str = BATCHED_MODEL, timeout_s: float = 60
) -> dict[str, object]:
    """Publish the spec and wait until deployment keeps its option; the option as stored."""
    await publish_signed(info, batching_spec(model), actor=REGISTRY_ACTOR)
    query = "SELECT micro_batching FROM driftline_deployment.canary_policies WHERE model = $1"
    deadline = time.monotonic() + timeout_s
    connection = await asyncpg.connect(info.asyncpg_dsn)
    try:
        while (stored := await connection.fetchval(query, model)) is None:
            if time.monotonic() > deadline:
                raise BatchingNotAppliedError(
                    f"no micro_batching kept for {model} in {timeout_s} s"
                )
            await asyncio.sleep(0.5)
    finally:
        await connection.close()
    found = json.loads(stored) if isinstance(stored, str) else stored  # asyncpg: JSONB as text
    return dict(found)


def batching_aim(batched: Sequence[Load], mlserver: Sequence[Load]) -> tuple[str, bool]:
    """Medians over rounds: met when Driftline's micro-batching serves at least MLServer's
    adaptive batching's requests/s at a p99 of at most half of MLServer's."""
    rate = statistics.median(x.rate for x in batched)
    ml_rate = statistics.median(x.rate for x in mlserver)
    p99 = statistics.median(x.p99_ms for x in batched)
    ml_p99 = statistics.median(x.p99_ms for x in mlserver)
    shown = (
        f"{rate:,.0f} vs {ml_rate:,.0f} req/s ({rate / ml_rate:.2f}x), "
        f"p99 {p99:.2f} vs {ml_p99:.2f} ms"
    )
    return shown, rate >= ml_rate and p99 <= ml_p99 / 2
