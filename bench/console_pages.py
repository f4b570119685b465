"""How fast the console's pages answer over a large read model (a benchmark, not a test).

``python -m bench.console_pages`` starts a local stack, migrates the console schema, fills it
with 100 models x 50 versions, their rollouts, drift windows, runs, dataset verdicts and 100k
audited events, then times each page in process (the console's app on an ASGI transport: its
queries and rendering; the other services' answers are stubbed, they are not the console's
cost). Prints one line per page: median and p95 over the requests.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI

from bench.driftline_side import local_stack, settings_for
from driftline.console.adapters import tables as t
from driftline.console.adapters.reader import PostgresReadModel
from driftline.console.deps import ConsoleDeps, build_templates
from driftline.console.settings import ConsoleSection
from driftline.console.web.audit_pages import audit_router
from driftline.console.web.pages import pages_router
from driftline.console.web.plot_pages import plot_pages_router
from driftline.runtime.db import build_engine
from driftline.runtime.migrations import migrate

MODELS, VERSIONS, EVENTS = 100, 50, 100_000
T0 = datetime(2026, 1, 1, tzinfo=UTC)
PAGES = [
    "/",
    "/?page=2&q=m-0",
    "/models/m-042",
    "/models/m-042/drift",
    "/datasets",
    "/datasets?verdict=rejected",
    "/runs",
    "/runs/compare?run=run-042-1&run=run-042-2&run=run-043-1",
    "/audit",
    "/audit?type=rolled-back",
    "/audit?subject=m-042&page=3",
]


class _Upstream:
    async def readiness(self) -> dict[str, Any]:
        return {"audit": {"status": "ready", "failing": []}}

    async def lineage(self, model: str, version: int) -> None:
        return None

    async def verify(self) -> dict[str, Any]:
        return {"ok": True, "entries": EVENTS, "digests": 1, "head_seq": EVENTS, "signed_seq": 1}

    async def drift_windows(self, model: str, limit: int) -> tuple[list[dict[str, Any]], None]:
        return [{"seq": s, "window_id": f"w{s:06d}", "version": 1, "end": "", "rows": 500,
                 "drifted": s % 2 == 0, "drift_share": 0.1, "severity": "low"}
                for s in range(limit, 0, -1)], None  # fmt: skip

    async def window_report(self, model: str, seq: int) -> dict[str, Any]:
        """Monitoring's report of a window: 20 numeric features and 10 categorical ones."""
        numeric = [
            {
                "feature": f"f{i}",
                "labels": [f"{b}..{b + 1}" for b in range(20)],
                "reference": [0.05] * 20,
                "current": [0.05] * 20,
            }
            for i in range(20)
        ]
        categorical = [
            {
                "feature": f"c{i}",
                "labels": [f"cat-{k}" for k in range(50)],
                "reference": [0.02] * 50,
                "current": [0.02] * 50,
            }
            for i in range(10)
        ]
        return {"window_id": f"w{seq:06d}", "distributions": numeric + categorical}  # fmt: skip


def _rows() -> dict[Any, list[dict[str, Any]]]:
    """The read model's rows for MODELS x VERSIONS and EVENTS audited events."""
    metrics = {"accuracy": 0.9, "f1": 0.88, "roc_auc": 0.95}
    gate = {
        "gate": "min_accuracy",
        "metric": "accuracy",
        "kind": "minimum",
        "threshold": 0.8,
        "observed": 0.9,
        "champion": None,
        "passed": True,
    }
    result = {
        "metric": "error_rate",
        "champion": 0.01,
        "canary": 0.012,
        "samples": 500,
        "passed": True,
        "delta_low": -0.01,
        "delta_high": 0.02,
    }
    rows: dict[Any, list[dict[str, Any]]] = {k: [] for k in t.metadata.sorted_tables}
    for m in range(MODELS):
        name = f"m-{m:03d}"
        rows[t.models].append(
            {
                "name": name,
                "champion": VERSIONS,
                "champion_since": T0,
                "canary": {
                    "status": "running",
                    "version": VERSIONS + 1,
                    "step": 1,
                    "traffic_percent": 25.0,
                    "verdict": "pass",
                },
                "drift": {"status": "open", "severity": "high", "features": ["f0"]},
                "training": {
                    "status": "trained",
                    "run_id": f"run-{m:03d}-{VERSIONS}",
                    "metrics": metrics,
                },
            }
        )
        for v in range(1, VERSIONS + 1):
            when = T0 + timedelta(hours=v)
            rows[t.versions].append(
                {
                    "model": name,
                    "version": v,
                    "status": "retired",
                    "metrics": metrics,
                    "gates": [gate, gate],
                    "decided_by": "service:registry",
                    "run_id": f"run-{m:03d}-{v}",
                    "registered_at": when,
                }
            )
            rows[t.runs].append(
                {
                    "run_id": f"run-{m:03d}-{v}",
                    "model": name,
                    "version": v,
                    "status": "trained",
                    "params": {"max_depth": v, "n_estimators": 100},
                    "metrics": metrics,
                    "started_at": when,
                }
            )
            for step in range(4 if v % 5 == 0 else 0):
                rows[t.rollout_steps].append(
                    {
                        "event_id": f"rs-{m}-{v}-{step}",
                        "canary_id": f"c-{m}-{v}",
                        "model": name,
                        "version": v,
                        "kind": "advanced",
                        "step": step,
                        "traffic_percent": 25.0 * (step + 1),
                        "verdict": "pass",
                        "results": [result, result],
                        "reasons": [],
                        "time": when,
                    }
                )
        for w in range(100):
            for feature in ("f0", "f1"):
                rows[t.drift_windows].append(
                    {
                        "event_id": f"dw-{m}-{w}",
                        "feature": feature,
                        "model": name,
                        "version": VERSIONS,
                        "drift_id": f"d-{m}-{w // 20}",
                        "test": "psi",
                        "statistic": 0.1 + w / 1000,
                        "threshold": 0.2,
                        "drifted": w % 20 == 0,
                        "window_end": T0 + timedelta(hours=w),
                    }
                )
        for e in range(5):
            rows[t.drift_episodes].append(
                {
                    "drift_id": f"d-{m}-{e}",
                    "model": name,
                    "version": VERSIONS,
                    "severity": "high",
                    "features": ["f0"],
                    "detected_at": T0 + timedelta(hours=20 * e),
                }
            )
        for d in range(20):
            rows[t.datasets].append(
                {
                    "event_id": f"ds-{m}-{d}",
                    "name": f"data-{m:03d}",
                    "version": d + 1,
                    "verdict": "rejected" if d % 4 == 0 else "accepted",
                    "sha256": "a" * 64,
                    "rows": 10_000,
                    "warnings": [],
                    "reasons": [],
                    "time": T0 + timedelta(hours=d),
                }
            )
    types = [
        "io.driftline.registry.approved.v1",
        "io.driftline.deployment.promoted.v1",
        "io.driftline.deployment.canary-rolled-back.v1",
        "io.driftline.data.validated.v1",
    ]
    for i in range(EVENTS):
        rows[t.events].append(
            {
                "event_id": f"ev-{i}",
                "type": types[i % 4],
                "subject": f"m-{i % MODELS:03d}",
                "actor": "service:bench",
                "time": T0 + timedelta(seconds=i),
                "data": {"model": {"name": f"m-{i % MODELS:03d}", "version": 1}},
            }
        )
    return rows


async def _fill(engine: Any) -> None:
    async with engine.begin() as conn:
        for table, rows in _rows().items():
            for start in range(0, len(rows), 5000):
                await conn.execute(table.insert(), rows[start : start + 5000])
        await conn.exec_driver_sql("ANALYZE")


async def _time_pages(app: FastAPI, requests: int) -> list[str]:
    lines = []
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://console") as client:
        for page in PAGES:
            took = []
            for _ in range(requests):
                start = time.perf_counter()
                answer = await client.get(page)
                took.append((time.perf_counter() - start) * 1000)
                assert answer.status_code == 200, (page, answer.status_code)
            took.sort()
            p95 = took[min(len(took) - 1, int(len(took) * 0.95))]
            lines.append(f"| `{page}` | {statistics.median(took):.0f} | {p95:.0f} |")
    return lines


async def main(info: Any, requests: int = 20) -> list[str]:
    """Migrate, fill, time; returns a Markdown table."""
    engine = build_engine(settings_for(info).database, "console")
    try:
        migrations = Path(__file__).parents[1] / "services/driftline/console/migrations"
        await migrate(engine, "console", migrations)
        start = time.perf_counter()
        await _fill(engine)
        print(f"filled the read model in {time.perf_counter() - start:.0f} s")
        deps = ConsoleDeps(
            PostgresReadModel(engine),
            _Upstream(),
            build_templates(),
            ConsoleSection(),
            sign_in_required=False,
        )
        app = FastAPI()
        app.include_router(pages_router(deps))
        app.include_router(plot_pages_router(deps))
        app.include_router(audit_router(deps))
        header = ["| page | median ms | p95 ms |", "|---|---|---|"]
        return header + await _time_pages(app, requests)
    finally:
        await engine.dispose()


if __name__ == "__main__":
    with local_stack() as stack:
        print("\n".join(asyncio.run(main(stack.info))))
