"""Read the audit trail: `audit tail|verify`, and the top-level `lineage` and `kpis`."""

from __future__ import annotations

import asyncio
import json
import os
import time
from datetime import UTC, datetime
from typing import Annotated, Any

import httpx
import typer
from rich.console import Console
from rich.table import Table

from driftline.cli.audit_format import event_line, facts_text
from driftline.cli.service_url import service_url

app = typer.Typer(help="Read the audit trail and verify its hash chain.", no_args_is_help=True)
console = Console()


PAGE_SIZE = 1000
"""Events fetched per request by ``audit tail``."""


def _audit_url(explicit: str | None) -> str:
    return service_url("audit", explicit)


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
                    params={
                        **{k: v for k, v in params.items() if v},
                        "after_seq": after,
                        "limit": PAGE_SIZE,
                    },
                )
                response.raise_for_status()
            except httpx.HTTPError as exc:
                console.print(f"[red]audit service at {base} did not answer: {exc}[/]")
                raise typer.Exit(1) from exc
            page = response.json()
            for entry in page:
                typer.echo(json.dumps(entry) if as_json else event_line(entry))
                after = entry["seq"]
            if len(page) >= PAGE_SIZE:
                continue  # more are waiting: page on without sleeping
            if not follow:
                return
            time.sleep(1)


def _audit_settings() -> Any:
    """The audit sink's settings; on a local stack, its own role and digest key as well."""
    from driftline.audit.settings import AuditSettings
    from driftline.runtime.settings import driftline_home
    from driftline.stack import LocalStack
    from driftline.stack.state import STATE_FILE

    home = driftline_home()
    if "DRIFTLINE_DATABASE__URL" not in os.environ and (home / STATE_FILE).exists():
        for name, value in LocalStack(home).info().audit_env().items():
            os.environ.setdefault(name, value)
    return AuditSettings.load()


@app.command("verify")
def verify_command(
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    stream: Annotated[
        bool, typer.Option(help="Also compare with the digests on the Kafka stream.")
    ] = True,
) -> None:
    """Recompute the chain; check every digest, its links and its copies; exit 1 if bad."""
    from driftline.audit.settings import DigestKeyMissingError
    from driftline.audit.verify import verify_audit_log
    from driftline.runtime.db import build_engine, schema_for
    from driftline.runtime.storage import build_artifact_store

    settings = _audit_settings()
    try:
        key = settings.audit.key_bytes()
    except DigestKeyMissingError as exc:
        console.print(f"[red]{exc}[/]")
        raise typer.Exit(2) from exc

    async def run() -> Any:
        engine = build_engine(settings.database, schema_for("audit"))
        try:
            store = build_artifact_store(settings.storage)
            kafka = settings.kafka if stream else None
            return await verify_audit_log(engine, store, key, kafka, stream_timeout_s=60)
        finally:
            await engine.dispose()

    report = asyncio.run(run())
    if as_json:
        typer.echo(json.dumps(report.to_dict(), default=str))
    else:
        print_report(report)
    if not report.ok:
        raise typer.Exit(1)


def print_report(report: Any) -> None:
    """One line when intact; otherwise every problem with the sequence at fault."""
    for reason in report.unchecked:
        console.print(f"[yellow]not checked[/]: {reason}", highlight=False)
    if report.ok:
        console.print(
            f"[green]audit trail intact[/]: {report.entries} entries, head seq "
            f"{report.head_seq}, {report.digests} digests up to seq {report.signed_seq}, "
            f"checked against {', '.join(report.checked_against)}"
        )
        return
    if report.problem:
        p = report.problem
        console.print(f"[red]{p.kind}[/] at seq {p.seq} (event {p.event_id}): {p.detail}")
    for finding in report.findings:
        console.print(
            f"[red]{finding.kind}[/] at seq {finding.seq} (digest {finding.digest}): "
            f"{finding.detail}",
            highlight=False,
        )


def _get_json(path: str, url: str | None, params: dict[str, Any] | None = None) -> Any:
    """GET ``path`` from the audit service; a 404 or an outage exits 1 with the reason."""
    base = _audit_url(url)
    try:
        response = httpx.get(f"{base}{path}", params=params, timeout=30)
    except httpx.HTTPError as exc:
        console.print(f"[red]audit service at {base} did not answer: {exc}[/]")
        raise typer.Exit(1) from exc
    if response.status_code == 404:
        console.print(f"[red]{response.json().get('detail', 'not found')}[/]")
        raise typer.Exit(1)
    response.raise_for_status()
    return response.json()


def print_lineage(lineage: dict[str, Any]) -> None:
    """The chain oldest first: time, actor, event, subject, then its key facts."""
    if lineage.get("missing_parent"):
        console.print(f"[yellow]cause {lineage['missing_parent']} is not in the audit log[/]")
    if lineage.get("cycle_at"):
        console.print(f"[yellow]causation links loop at event {lineage['cycle_at']}[/]")
    if lineage.get("data"):
        console.print("[dim]trained on (the data's own chain):[/]")
        _print_steps(lineage["data"])
        console.print("[dim]the version's chain:[/]")
    _print_steps(lineage["steps"])


def _print_steps(steps: list[dict[str, Any]]) -> None:
    for number, step in enumerate(steps, start=1):
        kind = step["type"].removeprefix("io.driftline.")
        console.print(
            f"{number:>2}. [bold]{kind}[/] {step['subject']}  "
            f"[dim]{step['time'][:19]} by {step['actor']}[/]",
            highlight=False,
        )
        if step["facts"]:
            console.print(f"    {facts_text(step['facts'])}", highlight=False, soft_wrap=True)


def lineage_command(
    target: Annotated[str, typer.Argument(help="MODEL@VERSION, e.g. churn-clf@3.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the chain as JSON.")] = False,
    url: Annotated[str | None, typer.Option(help="Audit service URL.")] = None,
) -> None:
    """Show how MODEL@VERSION came about: data, training, gates, canary, promotion or rollback."""
    model, _, version = target.partition("@")
    if not model or not version.isdigit():
        console.print("[red]expected MODEL@VERSION, e.g. churn-clf@3[/]")
        raise typer.Exit(2)
    lineage = _get_json(f"/v1/lineage/{model}/{version}", url)
    if as_json:
        typer.echo(json.dumps(lineage))
    else:
        print_lineage(lineage)


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds / size:.1f} {unit}"
    return f"{seconds:.0f} s"


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}"


def _per_day(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}/day"


_KPI_ROWS = (
    ("Lead time, median", "lead_time_median_s", _duration, "{lead_time_samples} runs"),
    ("Lead time, p90", "lead_time_p90_s", _duration, "{lead_time_samples} runs"),
    ("Deployment frequency", "deployment_frequency_per_day", _per_day, "{promotions} promotions"),
    (
        "Change failure rate",
        "change_failure_rate",
        _percent,
        "{rollbacks}/{canaries_started} canaries rolled back",
    ),
    ("Mean time to detect", "mean_time_to_detect_s", _duration, "{drift_episodes} drift episodes"),
    ("Mean time to recover", "mean_time_to_recover_s", _duration, "{recovered_episodes} recovered"),
    (
        "Monitoring coverage",
        "monitoring_coverage",
        _percent,
        "{monitored_models}/{production_models} production models",
    ),
)


def kpis_table(kpis: dict[str, Any]) -> Table:
    """The KPIs as a small rich table: name, value, what it is based on."""
    table = Table(title=f"Driftline KPIs ({kpis.get('model') or 'all models'})")
    for column in ("KPI", "Value", "Based on"):
        table.add_column(column)
    for label, key, show, basis in _KPI_ROWS:
        table.add_row(label, show(kpis[key]), basis.format(**kpis))
    return table


def kpis_command(
    model: Annotated[str | None, typer.Option(help="Only this model.")] = None,
    since: Annotated[
        datetime | None, typer.Option(help="Window start (default: first event).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the KPIs as JSON.")] = False,
    url: Annotated[str | None, typer.Option(help="Audit service URL.")] = None,
) -> None:
    """Lead time, deployment frequency, change failure rate, MTTD, MTTR, monitoring coverage."""
    params = {"model": model, "since": since.astimezone(UTC).isoformat() if since else None}
    kpis = _get_json("/v1/kpis", url, {k: v for k, v in params.items() if v})
    if as_json:
        typer.echo(json.dumps(kpis))
    else:
        console.print(kpis_table(kpis))


app.command("lineage")(lineage_command)
app.command("kpis")(kpis_command)
