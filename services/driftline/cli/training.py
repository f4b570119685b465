"""Training runs and tracked runs: `runs ls|show|compare` (over the client library) and
`reproduce`."""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any, TypeVar

import httpx
import typer
from rich.console import Console
from rich.table import Table

from driftline.cli.credentials import TOKEN_HELP, auth_headers
from driftline.cli.service_url import error_detail, service_url
from driftline.client import Client, ClientError, calls
from driftline.training.records import RunRecord
from driftline.training.tracking.models import MetricSummary, TrackedRun

runs_app = typer.Typer(
    help="Browse and compare training runs and tracked runs.", no_args_is_help=True
)
console = Console()
DEFAULT_URL = "http://127.0.0.1:8103"
MAX_COMPARED = 10
TRACKED_ID = re.compile(r"[0-9a-f]{32}")
T = TypeVar("T")

Url = Annotated[str | None, typer.Option(help="Training service URL.")]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON for machines.")]


def _training_url(explicit: str | None) -> str:
    return service_url("training", explicit)


def _client(url: str | None) -> Client:
    return Client(urls={"training": url} if url else None)


def _ask(what: Callable[[Client], T], url: str | None) -> T:
    """One client call; a 404/422 or an outage exits 1 with the reason."""
    with _client(url) as client:
        try:
            return what(client)
        except ClientError as exc:
            if exc.status in (0, 404, 422):
                console.print(f"[red]{exc}[/]", highlight=False)
                raise typer.Exit(1) from exc
            raise


def _number(value: Any) -> str:
    return f"{value:.4f}" if isinstance(value, float) else "-" if value is None else str(value)


def _curve(summary: MetricSummary | None) -> str:
    """A metric in one cell: the value, and for a curve its extremes and length."""
    if summary is None:
        return "-"
    if summary.points == 1:
        return _number(summary.last)
    return (f"{summary.last:.4f} (min {summary.min:.4f}, max {summary.max:.4f}, "
            f"{summary.points} steps)")  # fmt: skip


@runs_app.command("ls")
def list_runs(
    model: Annotated[str | None, typer.Option(help="Only this model's training runs.")] = None,
    experiment: Annotated[
        str | None, typer.Option(help="Only this experiment's tracked runs.")
    ] = None,
    as_json: AsJson = False,
    url: Url = None,
) -> None:
    """List training runs and tracked runs (notebooks, MLflow clients), newest first."""
    training = [] if experiment else _ask(lambda c: c.runs(model), url)
    tracked = [] if model else _ask(lambda c: c.tracked_runs(experiment), url)
    if as_json:
        typer.echo(json.dumps({
            "training": [r.model_dump(mode="json") for r in training],
            "tracked": [r.model_dump(mode="json") for r in tracked],
        }))  # fmt: skip
        return
    if training or not tracked:
        _print_training_runs(training)
    if tracked:
        _print_tracked_runs(tracked)


def _print_training_runs(runs: list[RunRecord]) -> None:
    table = Table("run", "model", "status", "dataset", "trigger", "metrics", "created",
                  title="training runs")  # fmt: skip
    for run in runs:
        metrics = ", ".join(f"{k}={v:.3f}" for k, v in sorted(run.metrics.items()))
        table.add_row(
            run.run_id,
            run.model,
            run.status if run.failure is None else f"failed ({run.failure.code})",
            f"{run.dataset.name}@{run.dataset.version or '-'}",
            run.trigger,
            metrics or "-",
            run.created_at.isoformat()[:19] if run.created_at else "",
        )
    console.print(table)


def _print_tracked_runs(runs: list[TrackedRun]) -> None:
    table = Table(title="tracked runs")
    table.add_column("run", no_wrap=True)
    for column in ("experiment", "name", "status", "parent", "dataset", "metrics", "started"):
        table.add_column(column, overflow="fold")
    for run in runs:
        metrics = ", ".join(f"{k}={m.last:.3f}" for k, m in sorted(run.metrics.items()))
        table.add_row(
            run.run_id, run.experiment, run.name, run.status,
            (run.parent_run_id or "-")[:8], run.dataset or "-", metrics or "-",
            datetime.fromtimestamp(run.start_time / 1000, UTC).isoformat()[:19],
        )  # fmt: skip
    console.print(table)


@runs_app.command("show")
def show_run(
    run_id: Annotated[str, typer.Argument(help="Run id.")], as_json: AsJson = False, url: Url = None
) -> None:
    """One run: a training run's dataset, spec, seed, params, metrics, artifacts and
    environment, or a tracked run's params, tags, metric curves and artifacts."""
    if TRACKED_ID.fullmatch(run_id):
        _show_tracked(_ask(lambda c: c.tracked_run(run_id), url), as_json)
        return
    run = _ask(lambda c: c.send(calls.training_run(run_id)), url)
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
        ("trained on", _window(run)),
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


def _window(run: dict[str, Any]) -> str:
    """The dataset versions and labelled production rows a training run read."""
    lineage = run.get("lineage") or {}
    versions = [str(d.get("version")) for d in lineage.get("datasets") or []]
    if not versions:
        return "-" if run["status"] == "failed" else f"v{run['dataset'].get('version')}"
    rows = lineage.get("window_rows")
    shown = f"versions {', '.join(versions)}" + (f" ({rows} rows)" if rows is not None else "")
    return f"{shown} + {lineage.get('labelled_rows', 0)} labelled production rows"


def _show_tracked(run: TrackedRun, as_json: bool) -> None:
    if as_json:
        typer.echo(run.model_dump_json())
        return
    facts = Table("field", "value", show_header=False)
    for field, value in (
        ("run", run.run_id), ("experiment", f"{run.experiment} ({run.experiment_id})"),
        ("name", run.name), ("status", run.status), ("by", run.actor),
        ("parent", run.parent_run_id or "-"), ("dataset", run.dataset or "-"),
    ):  # fmt: skip
        facts.add_row(field, str(value))
    console.print(facts)
    curves = Table("metric", "last", "min", "max", "steps")
    for key, m in sorted(run.metrics.items()):
        curves.add_row(key, _number(m.last), _number(m.min), _number(m.max), str(m.points))
    console.print(curves)
    _print_pairs("param", run.params)
    _print_pairs("tag", run.tags)
    artifacts = Table("artifact", "uri", "bytes")
    for entry in run.artifacts:
        artifacts.add_row(entry.path, entry.uri, str(entry.size_bytes))
    console.print(artifacts)


def _print_pairs(kind: str, values: dict[str, Any]) -> None:
    table = Table(kind, "value")
    for key, value in sorted(values.items()):
        table.add_row(key, _number(value))
    console.print(table)


@runs_app.command("compare")
def compare_runs(
    run_ids: Annotated[list[str], typer.Argument(help="Two to ten run ids, of either kind.")],
    as_json: AsJson = False,
    url: Url = None,
) -> None:
    """Metrics (curves as last, min, max and steps) and params of runs side by side, training
    runs and tracked runs alike; differing params are highlighted."""
    if not 2 <= len(run_ids) <= MAX_COMPARED:
        console.print(f"[red]give between 2 and {MAX_COMPARED} run ids[/]")
        raise typer.Exit(2)
    result = _ask(lambda c: c.compare(run_ids), url)
    if as_json:
        typer.echo(result.model_dump_json())
        return
    heads = [f"{r[:12]} ({kind})" for r, kind in zip(result.runs, result.kinds, strict=True)]
    table = Table("", *heads)
    for name, summaries in result.metrics.items():
        table.add_row(f"[bold]{name}[/]", *(_curve(s) for s in summaries))
    for name, values in result.params.items():
        style = "yellow" if len(set(values)) > 1 else "dim"
        table.add_row(f"[{style}]{name}[/]", *(v if v is not None else "-" for v in values))
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
