"""``driftline demo``: the main job — the whole Driftline loop on the local stack.

Stack up → eight services as separate processes → spec applied → real data validated (and a
corrupted variant rejected) → trained → gated → promoted → production traffic → drift on a
real sub-population → RetrainSkipped → new labelled data → retrain → canary → promotion → a
bad candidate rolled back → lineage and KPIs → audit chain verified. Exit 0 only if every step
happened; otherwise exit 1 naming the step that did not.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import time
import urllib.request
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from driftline.cli.demo_http import Credentials, StepFailedError, get_json, guarded_by, poll
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
Done = Callable[[str], None]
"""Reports one finished step of the story."""


def _audit_events(urls: dict[str, str], kind: str) -> list[dict[str, Any]]:
    found = get_json(f"{urls['audit']}/v1/audit/events?model={DATASET}&type={kind}")
    return found if isinstance(found, list) else []


def _data_steps(info: StackInfo, urls: dict[str, str], done: Done) -> None:
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
    done("same bytes again: no new upload; corrupted variant rejected with typed reasons")
    statuses = poll(
        "ingest shows validation's verdicts on the catalog",
        lambda: (
            [v["validation_status"] for v in get_json(versions_url)] == ["validated", "rejected"]
        ),
    )
    if statuses is not True:
        raise StepFailedError("catalog verdicts missing")
    done(f"catalog: GET {versions_url} shows upload 1 validated as v1, upload 2 rejected")


def _run_steps(info: StackInfo, urls: dict[str, str], done: Done, timeline: bool) -> None:
    """Every step of the story, with the live audit timeline printed while they run."""
    from driftline.cli.demo_model import (
        apply_spec,
        bad_candidate_steps,
        lineage_and_kpis,
        model_steps,
        retrain_steps,
        serve_steps,
    )
    from driftline.cli.demo_timeline import AuditTimeline

    live = AuditTimeline(urls["audit"], console)
    auth = Credentials.of_stack(info.auth_tokens_file)
    with live if timeline else contextlib.nullcontext():
        apply_spec(urls, done, auth)
        _data_steps(info, urls, done)
        model_steps(urls, done)
        serve_steps(urls, done, auth)
        retrain_steps(urls, done, auth)
        bad_candidate_steps(urls, done, auth)
        lineage_and_kpis(info, urls, done)
        for name, url in urls.items():
            with urllib.request.urlopen(f"{url}/metrics", timeout=5) as response:
                if b"driftline_outbox_backlog" not in response.read():
                    raise StepFailedError(f"{name} /metrics lacks driftline metrics")
        done("every /metrics answers")
        poll(
            "the audit sink records the arrivals",
            lambda: len(get_json(f"{urls['audit']}/v1/audit/events?model={DATASET}")) >= 4,
        )
        poll(
            "the audit chain verifies with a signed digest",
            lambda: get_json(f"{urls['audit']}/v1/audit/verify")["ok"],
            timeout_s=30,
        )
    counted = ", ".join(f"{n} {kind}" for kind, n in live.quiet_counts.items())
    events = f"{len(live.seen)} events ({counted or 'none batched'})" if timeline else "events"
    done(f"audit trail: {events}; hash chain and signed digest verify")


def _external_service_urls() -> dict[str, str] | None:
    """Every service's URL from ``DRIFTLINE_<SERVICE>_URL``, or None unless all of them are set."""
    import os

    from driftline.cli.service_url import url_env

    urls = {name: os.environ.get(url_env(name), "").rstrip("/") for name in SERVICE_NAMES}
    return urls if all(urls.values()) else None


def _wait_for_urls(urls: dict[str, str], timeout_s: float = 180.0) -> None:
    """Wait until every externally run service answers ``/readyz`` with 200."""
    for name, url in urls.items():
        poll(f"{name} at {url} is ready", partial(_answers_ready, url), timeout_s)
        console.log(f"{name} ready at {url}")


def _answers_ready(url: str) -> bool:
    """``url``'s ``/readyz`` answers 200."""
    from driftline.stack.services import readiness

    return readiness(url)[0] == 200


def _journey(
    home: Path, keep_running: bool, timeline: bool
) -> tuple[list[tuple[str, float]], str | None]:
    """Infrastructure, services, then the story; everything the demo started is stopped after
    (unless ``keep_running``). Returns the steps' timings and the console's URL.

    With ``DRIFTLINE_*`` connection settings in the environment (Docker Compose, a cluster) the
    demo uses that Kafka, PostgreSQL and S3 instead of starting the local stack; when every
    ``DRIFTLINE_<SERVICE>_URL`` is set too, it drives those services instead of starting its own.
    """
    from driftline.stack import LocalStack, external_stack_from_env
    from driftline.stack.services import (
        first_dead,
        start_services,
        stop_services,
        wait_until_ready,
    )

    timings: list[tuple[str, float]] = []
    began = time.monotonic()
    stack = LocalStack(home)
    external = external_stack_from_env()
    external_urls = _external_service_urls() if external is not None else None

    def done(step: str) -> None:
        timings.append((step, time.monotonic() - began))
        console.print(f"[green]✓[/] {step}  [dim]{timings[-1][1]:.1f}s[/]")

    if external is not None:
        info = external
        done(f"using the stack from DRIFTLINE_* settings (Kafka at {info.kafka_bootstrap})")
    else:
        with console.status("starting the local stack (tansu, PostgreSQL, rclone S3)…"):
            info = stack.up(on_progress=lambda m: console.log(m))
        done("local stack up")
    processes = []
    try:
        if external_urls is not None:
            with console.status(f"waiting for the {len(SERVICE_NAMES)} services to be ready…"):
                _wait_for_urls(external_urls)
            urls = external_urls
        else:
            # Sign the audit chain head every 2 s so the demo can verify it before it ends.
            processes = start_services(
                stack, info, SERVICE_NAMES, extra_env={"DRIFTLINE_AUDIT__DIGEST_INTERVAL_S": "2"}
            )
            with console.status(f"waiting for {len(SERVICE_NAMES)} services to be ready…"):
                wait_until_ready(processes, on_ready=lambda p: console.log(f"{p.name} ready"))
            urls = {p.name: p.url for p in processes}
        done("all services ready (/readyz 200)")
        with guarded_by(lambda: first_dead(processes)):
            try:
                _run_steps(info, urls, done, timeline)
            except OSError as exc:  # a service stopped answering mid-request
                why = first_dead(processes) or "while every service process is still running"
                raise StepFailedError(f"a service did not answer ({exc}) {why}") from exc
        _summary(urls, home)
    finally:
        if not keep_running:
            with console.status("stopping services and the stack…"):
                stop_services(stack, processes)
                if external is None:
                    stack.down()
    return timings, urls.get("console")


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
    timeline: Annotated[
        bool, typer.Option(help="Print audited events live as they happen.")
    ] = True,
) -> None:
    """Run the end-to-end demo on the local stack; exit 0 only if every step happened."""
    from driftline.runtime.settings import driftline_home
    from driftline.stack.errors import StackError
    from driftline.stack.tokens import tokens_path

    try:
        state = (home or driftline_home()).resolve()
        timings, console_url = _journey(state, keep_running, timeline)
    except (StepFailedError, StackError) as exc:
        console.print(f"[bold red]demo failed:[/] {exc}")
        raise typer.Exit(1) from exc
    console.print(f"[bold green]demo passed[/] in {timings[-1][1]:.1f}s")
    if console_url and keep_running:
        console.print(f"console: {console_url}  (sign in with a token from {tokens_path(state)})")
    elif console_url:
        console.print("to look around in the console afterwards: driftline demo --keep-running")
