"""Active canary rollouts on ``/metrics``, refreshed from PostgreSQL by a background job.

Every replica reads the same table, so each shows every active rollout (aggregate with
``max by (model, version)``); a rollout that ended disappears at the next refresh.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Gauge
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from driftline.deployment.tables import canaries
from driftline.runtime.background import BackgroundJob
from driftline.runtime.retry import RetryPolicy
from driftline.runtime.service import ServiceRuntime
from driftline_contracts.values import CanaryStep

REFRESH_S = 15.0


@dataclass(frozen=True)
class ActiveRollout:
    """Where one active rollout stands: its challenger, step (from 1) and plan."""

    model: str
    version: int
    step: int
    steps: tuple[CanaryStep, ...]

    @property
    def traffic_percent(self) -> float:
        """The current step's share (mirrored share on a shadow step)."""
        return self.steps[self.step - 1].traffic_percent


@dataclass(frozen=True)
class RolloutGauges:
    """``driftline_canary_step``, ``driftline_canary_steps`` and
    ``driftline_canary_traffic_percent``, by model and challenger version."""

    step: Gauge
    steps: Gauge
    traffic_percent: Gauge

    def show(self, rollouts: Iterable[ActiveRollout]) -> None:
        """Make the gauges hold exactly ``rollouts``."""
        current = {(r.model, str(r.version)): r for r in rollouts}
        for gauge in (self.step, self.steps, self.traffic_percent):
            for labels in _series(gauge):
                if labels not in current:
                    gauge.remove(*labels)
        for (model, version), rollout in current.items():
            self.step.labels(model, version).set(rollout.step)
            self.steps.labels(model, version).set(len(rollout.steps))
            self.traffic_percent.labels(model, version).set(rollout.traffic_percent)


def rollout_gauges(registry: CollectorRegistry) -> RolloutGauges:
    """The gauges, registered in ``registry`` (literal names: the dashboards' test reads them)."""
    return RolloutGauges(
        step=Gauge(
            "driftline_canary_step",
            "Step (from 1) of each active canary rollout.",
            ["model", "version"],
            registry=registry,
        ),
        steps=Gauge(
            "driftline_canary_steps",
            "Steps in each active rollout's plan.",
            ["model", "version"],
            registry=registry,
        ),
        traffic_percent=Gauge(
            "driftline_canary_traffic_percent",
            "Share of the model's traffic the challenger serves at its current step, percent "
            "(mirrored share on a shadow step).",
            ["model", "version"],
            registry=registry,
        ),
    )


def _series(gauge: Gauge) -> list[tuple[str, ...]]:
    return [tuple(s.labels.values()) for metric in gauge.collect() for s in metric.samples]


async def active_rollouts(engine: AsyncEngine) -> list[ActiveRollout]:
    """Every active rollout."""
    query = select(
        canaries.c.model, canaries.c.challenger_version, canaries.c.step, canaries.c.steps
    ).where(canaries.c.status == "active")
    async with engine.connect() as conn:
        rows = (await conn.execute(query)).all()
    return [
        ActiveRollout(
            str(row.model),
            int(row.challenger_version),
            int(row.step) + 1,
            tuple(CanaryStep.model_validate(s) for s in row.steps),
        )
        for row in rows
    ]


async def refresh_forever(
    runtime: ServiceRuntime, gauges: RolloutGauges, interval_s: float = REFRESH_S
) -> None:
    """Every ``interval_s``, re-read the active rollouts into ``gauges``: an outage is waited
    out, a bug logged and counted (``BackgroundJob``)."""

    async def refresh() -> bool:
        gauges.show(await active_rollouts(runtime.engine))
        return False

    policy = RetryPolicy("database", initial_s=1.0, max_s=interval_s)
    job = BackgroundJob(
        "canary-gauges", refresh, policy, idle_s=interval_s, metrics=runtime.metrics
    )
    await job.run_forever()
