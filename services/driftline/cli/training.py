"""Browse training runs: `runs ls|show|compare` against the training service's HTTP API."""

from __future__ import annotations

import json
from typing import Annotated, Any

import httpx
import typer
from rich.console import Console
from rich.table import Table

from driftline.cli.service_url import service_url

runs_app = typer.Typer(help="Browse and compare training runs.", no_args_is_help=True)
console = Console()
DEFAULT_URL = "http://127.0.0.1:8103"

Url = Annotated[str | None, typer.Option(help="Training service URL.")]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON for machines.")]


def _training_url(explicit: str | None) -> str:
    return service_url("training", explicit)


def _get(path: str, url: str | None, params: dict[str, Any] | None = None) -> Any:
    """GET ``path`` from the training service; a 404 or an outage exits 1 with the reason."""
    base = _training_url(url)
    try:
        response = httpx.get(f"{base}{path}", params=params, timeout=30)
    except httpx.HTTPError as exc:
        console.print(f"[red]training service at {base} did not answer: {exc}[/]")
        raise typer.Exit(1) from exc
    if response.status_code in (404, 422):
        console.print(f"[red]{response.json().get('detail', 'not found')}[/]")
        raise typer.Exit(1)
    response.raise_for_status()
    return response.json()


def _number(value: Any) -> str:
    return f"{value:.4f}" if isinstance(value, float) else "-" if value is None else str(value)


@runs_app.command("ls")
def list_runs(
    model: Annotated[str | None, typer.Option(help="Only this model's runs.")] = None,
    as_json: AsJson = False,
    url: Url = None,
) -> None:
    """List training runs, newest first."""
    runs = _get("/v1/runs", url, {"model": model} if model else None)
    if as_json:
        typer.echo(json.dumps(runs))
        return
    table = Table("run", "model", "status", "dataset", "trigger", "metrics", "created")
    for run in runs:
        dataset = run["dataset"]
        metrics = ", ".join(f"{k}={v:.3f}" for k, v in sorted(run["metrics"].items()))
        failure = run.get("failure") or {}
        table.add_row(
            run["run_id"],
            run["model"],
            run["status"] if not failure else f"failed ({failure['code']})",
            f"{dataset['name']}@{dataset.get('version') or '-'}",
            run["trigger"],
            metrics or "-",
            (run.get("created_at") or "")[:19],
        )
    console.print(table)


@runs_app.command("show")
def show_run(
    run_id: Annotated[str, typer.Argument(help="Run id.")], as_json: AsJson = False, url: Url = None
) -> None:
    """One run: dataset, spec, seed, params, metrics, artifacts and environment."""
    run = _get(f"/v1/runs/{run_id}", url)
    if as_json:
        typer.echo(json.dumps(run))
        return
    facts = Table("field", "value", show_header=False)
    dataset = run["dataset"]
    for field, value in (
        ("run", run["run_id"]),
        ("model", run["model"]),
        ("status", run["status"]),
        ("failure", json.dumps(run["failure"]) if run.get("failure") else "-"),
        ("dataset", f"{dataset['name']}@{dataset.get('version')} sha256 {dataset['sha256'][:12]}"),
        ("spec hash", run["spec_hash"][:12]),
        ("seed", run["seed"]),
        ("rows", f"{run.get('train_rows')} train / {run.get('holdout_rows')} holdout"),
        ("duration", f"{_number(run.get('duration_s'))} s"),
        ("code", run["lineage"].get("code_version", "-")),
        ("host", run["lineage"].get("host", "-")),
    ):
        facts.add_row(field, str(value))
    console.print(facts)
    _print_pairs("metric", run["metrics"])
    _print_pairs("param", run["params"])
    artifacts = Table("artifact", "uri", "sha256")
    for name, ref in run["artifacts"].items():
        artifacts.add_row(name, ref["uri"], ref["sha256"][:12])
    console.print(artifacts)


def _print_pairs(kind: str, values: dict[str, Any]) -> None:
    table = Table(kind, "value")
    for key, value in sorted(values.items()):
        table.add_row(key, _number(value))
    console.print(table)


@runs_app.command("compare")
def compare_runs(
    first: Annotated[str, typer.Argument(help="First run id.")],
    second: Annotated[str, typer.Argument(help="Second run id.")],
    as_json: AsJson = False,
    url: Url = None,
) -> None:
    """Metrics and parameters of two runs side by side; differing params are highlighted."""
    result = _get("/v1/runs/compare", url, {"ids": f"{first},{second}"})
    if as_json:
        typer.echo(json.dumps(result))
        return
    table = Table("", *result["runs"])
    for name, values in result["metrics"].items():
        table.add_row(f"[bold]{name}[/]", *(_number(v) for v in values))
    for name, values in result["params"].items():
        style = "yellow" if len({json.dumps(v) for v in values}) > 1 else "dim"
        table.add_row(f"[{style}]{name}[/]", *(_number(v) for v in values))
    console.print(table)
