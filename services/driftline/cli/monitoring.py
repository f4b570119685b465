"""Drift reports from the monitoring service: `driftline drift report NAME`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
from rich.console import Console
from rich.table import Table

from driftline.cli.service_url import service_url

drift_app = typer.Typer(help="Read drift reports of production models.", no_args_is_help=True)
console = Console()


def _monitoring_url(explicit: str | None) -> str:
    return service_url("monitoring", explicit)


def _get(url: str, **params: str) -> httpx.Response:
    try:
        response = httpx.get(url, params=params, timeout=15)
    except httpx.HTTPError as exc:
        console.print(f"[red]monitoring service did not answer at {url}: {exc}[/]")
        raise typer.Exit(1) from exc
    if response.status_code == 404:
        console.print(f"[yellow]{response.json().get('detail', 'not found')}[/]")
        raise typer.Exit(1)
    response.raise_for_status()
    return response


def _summary(report: dict[str, Any]) -> None:
    result = report["result"]
    verdict = "[red]DRIFT[/]" if result["drifted"] else "[green]no drift[/]"
    console.print(
        f"{report['model']} v{report['version']} window {report['window_id']} "
        f"({report['rows']} predictions): {verdict}, severity {result['severity']}, "
        f"{result['drift_share']:.0%} of features drifted"
    )
    table = Table("feature", "test", "statistic", "p-value", "drifted")
    tested = [*result["features"], *([result["prediction"]] if result["prediction"] else [])]
    for f in tested:
        p_value = "" if f["p_value"] is None else f"{f['p_value']:.3g}"
        table.add_row(f["feature"], f["test"], f"{f['statistic']:.4g}", p_value,
                      "yes" if f["drifted"] else "")  # fmt: skip
    console.print(table)


@drift_app.command("report")
def report_command(
    name: Annotated[str, typer.Argument(help="Model name.")],
    html: Annotated[Path | None, typer.Option(help="Also write the HTML report here.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the JSON report.")] = False,
    url: Annotated[str | None, typer.Option(help="Monitoring service URL.")] = None,
) -> None:
    """Show the latest drift report of a model (summary, JSON, or HTML file)."""
    endpoint = f"{_monitoring_url(url)}/v1/models/{name}/drift"
    report = _get(endpoint).json()
    if html is not None:
        html.write_text(_get(endpoint, format="html").text)
        console.print(f"HTML report written to {html}")
    if as_json:
        typer.echo(json.dumps(report, indent=2))
    else:
        _summary(report)
