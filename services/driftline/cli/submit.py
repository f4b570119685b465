"""``driftline models submit FILE --model NAME``: a model trained elsewhere, through the client."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from driftline.cli.credentials import TOKEN_HELP
from driftline.client import Client, ClientError
from driftline.client.submitting import SubmissionTimeoutError
from driftline.training.records import RunRecord, SubmissionStatus

console = Console()
err_console = Console(stderr=True)


def _report(status: SubmissionStatus, run: RunRecord | None) -> None:
    if status.status == "failed":
        reason = status.failure
        why = f"{reason.code}: {reason.message}" if reason else "no reason recorded"
        err_console.print(f"[red]refused[/] {status.model} submission {status.submission_id}: "
                          f"{why}", highlight=False)  # fmt: skip
        return
    if run is None:
        console.print(f"submission {status.submission_id} is {status.status}; follow it with "
                      f"driftline runs show {status.submission_id}", highlight=False)  # fmt: skip
        return
    scores = ", ".join(f"{k} {v:.4f}" for k, v in sorted(run.metrics.items()))
    console.print(
        f"[green]scored[/] on {status.dataset.name}@{status.dataset.version} "
        f"({run.holdout_rows} holdout rows): {scores}\nthe registry gates it next: "
        f"driftline models versions {status.model}", highlight=False,
    )  # fmt: skip


def _follow(client: Client, sent: SubmissionStatus, timeout_s: float) -> SubmissionStatus:
    again = "" if sent.created else ", the same file was already submitted"
    console.print(f"submitted {sent.model}: submission {sent.submission_id} ({sent.status}"
                  f"{again}), sha256 {sent.sha256[:12]}…; waiting for the scoring",
                  highlight=False)  # fmt: skip
    try:
        return client.wait_for_submission(sent.submission_id, timeout_s)
    except SubmissionTimeoutError as exc:
        err_console.print(f"[yellow]{exc}[/]", highlight=False)
        raise typer.Exit(1) from exc


def submit_command(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True,
                                         help="Model file: skops, or a native LightGBM / "
                                         "XGBoost archive (never a pickle).")],
    model: Annotated[str, typer.Option("--model", "-m", help="Model it is a candidate for.")],
    run: Annotated[str | None, typer.Option("--run", help="Tracked run it came from.")] = None,
    wait: Annotated[bool, typer.Option(help="Wait for the scoring and print it.")] = True,
    timeout: Annotated[float, typer.Option(help="Seconds to wait.")] = 300.0,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for machines.")] = False,
    url: Annotated[str | None, typer.Option(help="Training service URL.")] = None,
    token: Annotated[str | None, typer.Option(help=TOKEN_HELP)] = None,
) -> None:  # fmt: skip
    """Submit a model trained elsewhere: it is checked, re-scored on the spec's holdout, and
    goes through the registry's gates, approval and canary like a trained version."""
    with Client(token=token, urls={"training": url} if url else None) as client:
        try:
            sent = status = client.submit_model_file(file, model=model, run_id=run)
            if wait and not as_json:
                status = _follow(client, sent, timeout)
            elif wait:
                status = client.wait_for_submission(sent.submission_id, timeout)
            status = status.model_copy(update={"created": sent.created})
            found = client.run(status.submission_id) if status.status == "succeeded" else None
        except (ClientError, ValueError, SubmissionTimeoutError) as exc:
            err_console.print(f"[red]{exc}[/]", highlight=False)
            raise typer.Exit(1) from exc
    if as_json:
        metrics = found.metrics if found else None
        typer.echo(json.dumps({**status.model_dump(mode="json"), "metrics": metrics}, indent=2))
    else:
        _report(status, found)
    if status.status == "failed":
        raise typer.Exit(1)
