"""``driftline demo``: the main job — the whole Driftline loop on the local stack.

Stack up → seven services as separate processes → spec applied → real data validated (and a
corrupted variant rejected) → trained → gated → promoted → production traffic → drift on a
real sub-population → RetrainSkipped → new labelled data → retrain → canary → promotion → a
bad candidate rolled back → lineage and KPIs → audit chain verified. Exit 0 only if every step
happened; otherwise exit 1 naming the step that did not.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
import urllib.request
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from driftline.cli.demo_http import StepFailedError, get_json, poll
from driftline.runtime.services import SERVICE_NAMES
from driftline.stack.info import StackInfo

console = Console()


def _publish_arrival(info: StackInfo, name: str, payload: bytes) -> str:
    """Do what a pipeline does: write the object to S3, then publish DataArrived."""
    import io

    from minio import Minio

    from driftline_contracts.events.data import DataArrived
    from driftline_contracts.publish import publish
    from driftline_contracts.values import DatasetRef

    digest = hashlib.sha256(payload).hexdigest()
    key = f"pipelines/{name}/{digest}.csv"
    s3 = Minio(
        info.s3_endpoint,
        access_key=info.s3_access_key,
        secret_key=info.s3_secret_key,
        secure=False,
        region="us-east-1",
    )
    s3.put_object(info.bucket, key, io.BytesIO(payload), len(payload), content_type="text/csv")
    event = DataArrived(
        dataset=DatasetRef(
            name=name,
            uri=f"s3://{info.bucket}/{key}",
            sha256=digest,
            format="csv",
            size_bytes=len(payload),
        )
    )
    envelope = asyncio.run(
        publish(
            event,
            bootstrap_servers=info.kafka_bootstrap,
            source="pipeline/driftline-demo",
            actor="pipeline:demo",
        )
    )
    return envelope.id


DATASET = "breast-cancer"


def _audit_events(urls: dict[str, str], kind: str) -> list[dict]:  # type: ignore[type-arg]
    found = get_json(f"{urls['audit']}/v1/audit/events?model={DATASET}&type={kind}")
    return found if isinstance(found, list) else []


def _data_steps(info: StackInfo, urls: dict[str, str], done) -> None:  # type: ignore[no-untyped-def]
    """Publish real data, a repeat and a corrupted variant; check catalog and validation."""
    from driftline.cli.demo_data import breast_cancer_csv, corrupted

    good = breast_cancer_csv()
    event_id = _publish_arrival(info, DATASET, good)
    done(f"pipeline wrote {DATASET} (569 rows) to S3 and published DataArrived {event_id[:8]}")
    validated = poll(
        "validation accepts the data", lambda: _audit_events(urls, "data.validated"), timeout_s=90
    )
    profile = validated[0]["data"]["profile"]["uri"]
    done(f"validation accepted {DATASET} v1; profile at {profile}")
    versions_url = f"{urls['ingest']}/v1/datasets/{DATASET}/versions"
    poll("ingest catalogues the arrival", lambda: get_json(versions_url))
    _publish_arrival(info, DATASET, good)
    _publish_arrival(info, DATASET, corrupted(good))
    rejected = poll(
        "validation rejects the corrupted variant",
        lambda: _audit_events(urls, "data.rejected"),
        timeout_s=90,
    )
    for reason in rejected[0]["data"]["reasons"][:6]:
        console.print(f"  [yellow]rejected[/] {reason['code']}: {reason['message'][:90]}")
    versions = poll(
        "ingest catalogues the variant",
        lambda: (v := get_json(versions_url)) and len(v) >= 2 and v,
    )
    if len(versions) != 2 or len(_audit_events(urls, "data.validated")) != 1:
        raise StepFailedError("the same bytes twice must stay one version and one validation")
    done("same bytes again: no new version; corrupted variant rejected with typed reasons")
    statuses = poll(
        "ingest shows validation's verdicts on the catalog",
        lambda: (
            [v["validation_status"] for v in get_json(versions_url)] == ["validated", "rejected"]
        ),
    )
    if statuses is not True:
        raise StepFailedError("catalog verdicts missing")
    done(f"catalog: GET {versions_url} shows v1 validated (with profile), v2 rejected")


def _journey(home: Path, keep_running: bool) -> list[tuple[str, float]]:
    from driftline.stack import LocalStack
    from driftline.stack.services import start_services, stop_services, wait_until_ready

    timings: list[tuple[str, float]] = []
    began = time.monotonic()
    stack = LocalStack(home)

    def done(step: str) -> None:
        timings.append((step, time.monotonic() - began))
        console.print(f"[green]✓[/] {step}  [dim]{timings[-1][1]:.1f}s[/]")

    with console.status("starting the local stack (tansu, PostgreSQL, rclone S3)…"):
        info = stack.up(on_progress=lambda m: console.log(m))
    done("local stack up")
    # Sign the audit chain head every 2 s so the demo can verify it before it ends.
    processes = start_services(
        stack, info, SERVICE_NAMES, extra_env={"DRIFTLINE_AUDIT__DIGEST_INTERVAL_S": "2"}
    )
    try:
        with console.status("waiting for seven services to be ready…"):
            wait_until_ready(processes, on_ready=lambda p: console.log(f"{p.name} ready"))
        done("all services ready (/readyz 200)")
        urls = {p.name: p.url for p in processes}
        from driftline.cli.demo_model import (
            apply_spec,
            bad_candidate_steps,
            lineage_and_kpis,
            model_steps,
            retrain_steps,
            serve_steps,
        )

        apply_spec(urls, done)
        _data_steps(info, urls, done)
        model_steps(urls, done)
        serve_steps(urls, done)
        retrain_steps(info, urls, done, _publish_arrival)
        bad_candidate_steps(urls, done)
        lineage_and_kpis(urls, done)
        for name, url in urls.items():
            with urllib.request.urlopen(f"{url}/metrics", timeout=5) as response:
                if b"driftline_outbox_backlog" not in response.read():
                    raise StepFailedError(f"{name} /metrics lacks driftline metrics")
        done("every /metrics answers")
        timeline = poll(
            "the audit sink records the arrivals",
            lambda: (
                (t := get_json(f"{urls['audit']}/v1/audit/events?model={DATASET}"))
                and len(t) >= 4
                and t
            ),
        )
        for entry in timeline:
            console.print(
                f"  [dim]audit[/] #{entry['seq']} {entry['time'][11:19]} "
                f"{entry['actor']:<18} {entry['type']}"
            )
        poll(
            "the audit chain verifies with a signed digest",
            lambda: get_json(f"{urls['audit']}/v1/audit/verify")["ok"],
            timeout_s=30,
        )
        done("audit trail recorded every arrival; hash chain and signed digest verify")
        _summary(urls, home)
    finally:
        if not keep_running:
            with console.status("stopping services and the stack…"):
                stop_services(stack, processes)
                stack.down()
    return timings


def _summary(urls: dict[str, str], home: Path) -> None:
    table = Table(title="Driftline services")
    table.add_column("service")
    table.add_column("URL")
    for name, url in urls.items():
        table.add_row(name, url)
    console.print(table)
    console.print(f"state and logs: {home}; `DRIFTLINE_HOME={home} driftline stack status`")


def demo_command(
    keep_running: Annotated[
        bool, typer.Option(help="Leave the stack and services running for exploring.")
    ] = False,
    home: Annotated[
        Path | None, typer.Option(help="State folder (default: $DRIFTLINE_HOME or ./.driftline).")
    ] = None,
) -> None:
    """Run the end-to-end demo on the local stack; exit 0 only if every step happened."""
    from driftline.runtime.settings import driftline_home
    from driftline.stack.errors import StackError

    try:
        timings = _journey((home or driftline_home()).resolve(), keep_running)
    except (StepFailedError, StackError) as exc:
        console.print(f"[bold red]demo failed:[/] {exc}")
        raise typer.Exit(1) from exc
    console.print(f"[bold green]demo passed[/] in {timings[-1][1]:.1f}s")
