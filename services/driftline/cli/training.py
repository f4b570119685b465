"""Training runs: `runs ls|show|compare` and `reproduce`, over the training HTTP API."""

from __future__ import annotations

import contextlib
import json
from typing import Annotated, Any

import httpx
import typer
from rich.console import Console
from rich.table import Table

from driftline.cli.credentials import TOKEN_HELP, auth_headers
from driftline.cli.service_url import error_detail, service_url

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


class ReproduceFailedError(Exception):
    """Reproduction could not run: unknown version/run, changed data, an outage (exit 2)."""


def _post_or_get(
    method: str, url: str, timeout: float, headers: dict[str, str] | None = None
) -> Any:
    """One call whose non-2xx answer or outage is a ``ReproduceFailedError`` with the reason."""
    try:
        response = httpx.request(method, url, timeout=timeout, headers=headers)
    except httpx.HTTPError as exc:
        raise ReproduceFailedError(f"{url} did not answer: {exc}") from exc
    if response.is_success:
        return response.json()
    detail = error_detail(response)
    with contextlib.suppress(ValueError, AttributeError, KeyError, TypeError):
        body = response.json()["detail"]
        detail = f"{body['code']}: {body['message']}"
    raise ReproduceFailedError(f"{response.status_code} {detail}")


def run_of(target: str, registry_url: str | None) -> str:
    """The run id of ``MODEL@VERSION`` (asked of the registry), or ``target`` as a run id."""
    model, at, version = target.partition("@")
    if not at:
        return target
    if not model or not version.isdigit():
        raise ReproduceFailedError("expected MODEL@VERSION (e.g. churn-clf@3) or a run id")
    base = service_url("registry", registry_url)
    return _post_or_get("GET", f"{base}/v1/models/{model}/versions/{version}", 30)["run_id"]


def print_reproduction(result: dict[str, Any]) -> None:
    """Per metric: recorded, reproduced, match; then the verdict."""
    dataset = result["dataset"]
    console.print(
        f"run {result['run_id']} of {result['model']}: {dataset['name']}@{dataset.get('version')}"
        f" sha256 {dataset['sha256'][:12]} verified, spec {result['spec_hash'][:12]},"
        f" seed {result['seed']}, trainer {result['trainer']}",
        highlight=False,
    )
    table = Table("metric", "recorded", "reproduced", "match")
    for check in result["metrics"]:
        mark = "[green]yes[/]" if check["match"] else "[red]no[/]"
        table.add_row(check["name"], repr(check["recorded"]), repr(check["reproduced"]), mark)
    console.print(table)
    for name, (before, now) in result.get("environment", {}).items():
        console.print(f"[yellow]{name}: {before} when recorded, {now} now[/]", highlight=False)
    verdict = "[green]metrics match exactly[/]" if result["match"] else "[red]metrics differ[/]"
    console.print(verdict)


def reproduce_command(
    target: Annotated[str, typer.Argument(help="MODEL@VERSION (e.g. churn-clf@3) or a run id.")],
    as_json: AsJson = False,
    url: Url = None,
    registry_url: Annotated[str | None, typer.Option(help="Registry service URL.")] = None,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for the retraining.")] = 3600,
    token: Annotated[str | None, typer.Option(help=TOKEN_HELP, show_default=False)] = None,
) -> None:
    """Retrain a model version from its recorded lineage and check the metrics match exactly.

    Exit code 0 when every metric matches, 1 when one differs, 2 when it cannot be reproduced
    (unknown version or run, dataset bytes changed, failed retraining, service down).
    """
    try:
        run_id = run_of(target, registry_url)
        base = _training_url(url)
        headers = auth_headers("publisher", token)
        result = _post_or_get("POST", f"{base}/v1/runs/{run_id}/reproduce", timeout, headers)
    except ReproduceFailedError as exc:
        console.print(f"[red]cannot reproduce {target}: {exc}[/]", highlight=False)
        raise typer.Exit(2) from exc
    if as_json:
        typer.echo(json.dumps(result))
    else:
        print_reproduction(result)
    raise typer.Exit(0 if result["match"] else 1)
