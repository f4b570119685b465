"""``driftline audit tail`` and ``driftline audit verify``: read and check the audit trail."""

from __future__ import annotations

import asyncio
import json
import os
import time
from datetime import datetime
from typing import Annotated, Any

import httpx
import typer
from rich.console import Console

app = typer.Typer(help="Read the audit trail and verify its hash chain.", no_args_is_help=True)
console = Console()


def _audit_url(explicit: str | None) -> str:
    if explicit:
        return explicit.rstrip("/")
    if os.environ.get("DRIFTLINE_AUDIT_URL"):
        return os.environ["DRIFTLINE_AUDIT_URL"].rstrip("/")
    from driftline.runtime.settings import driftline_home
    from driftline.stack import LocalStack

    for service in LocalStack(driftline_home()).status().services:
        if service.name == "audit" and service.alive:
            return service.url
    return "http://127.0.0.1:8107"


def _line(entry: dict[str, Any]) -> str:
    data = entry.get("data") or {}
    facts = ", ".join(f"{k}={v}" for k, v in data.items() if isinstance(v, str | int | float))
    return (
        f"{entry['seq']:>6}  {entry['time'][:19]}  {entry['actor']:<24} "
        f"{entry['type'].removeprefix('io.driftline.'):<28} {entry['subject']:<20} {facts[:80]}"
    )


@app.command("tail")
def tail_command(
    model: Annotated[str | None, typer.Option(help="Only this model or dataset.")] = None,
    type_: Annotated[str | None, typer.Option("--type", help="Only types containing this.")] = None,
    since: Annotated[datetime | None, typer.Option(help="Only events at/after this time.")] = None,
    follow: Annotated[bool, typer.Option(help="Keep printing new events.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="JSON lines for machines.")] = False,
    url: Annotated[str | None, typer.Option(help="Audit service URL.")] = None,
) -> None:
    """Print the audit timeline: who/what did what to which model, in chain order."""
    base, after = _audit_url(url), 0
    params: dict[str, Any] = {
        "model": model,
        "type": type_,
        "since": since.isoformat() if since else None,
    }
    with httpx.Client(timeout=10) as client:
        while True:
            try:
                response = client.get(
                    f"{base}/v1/audit/events",
                    params={**{k: v for k, v in params.items() if v}, "after_seq": after},
                )
                response.raise_for_status()
            except httpx.HTTPError as exc:
                console.print(f"[red]audit service at {base} did not answer: {exc}[/]")
                raise typer.Exit(1) from exc
            for entry in response.json():
                typer.echo(json.dumps(entry) if as_json else _line(entry))
                after = entry["seq"]
            if not follow:
                return
            time.sleep(1)


@app.command("verify")
def verify_command(
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Recompute the hash chain (PostgreSQL) and check the signed digest (S3); exit 1 if bad."""
    from driftline.audit.settings import AuditSettings
    from driftline.audit.verify import verify_audit_log
    from driftline.runtime.db import build_engine, schema_for
    from driftline.runtime.storage import build_artifact_store

    settings = AuditSettings.load()

    async def run() -> Any:
        engine = build_engine(settings.database, schema_for("audit"))
        try:
            return await verify_audit_log(
                engine,
                build_artifact_store(settings.storage),
                settings.audit.digest_key.get_secret_value().encode(),
            )
        finally:
            await engine.dispose()

    report = asyncio.run(run())
    if as_json:
        typer.echo(json.dumps(report.to_dict(), default=str))
    elif report.ok:
        console.print(
            f"[green]audit chain intact[/]: {report.entries} entries, head seq "
            f"{report.head_seq}, signed digest at seq {report.digest_seq}"
        )
    else:
        if report.problem:
            p = report.problem
            console.print(f"[red]{p.kind}[/] at seq {p.seq} (event {p.event_id}): {p.detail}")
        if report.digest_problem:
            console.print(f"[red]digest[/]: {report.digest_problem}")
    if not report.ok:
        raise typer.Exit(1)
