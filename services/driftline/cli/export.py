"""``driftline models export NAME@V --format onnx [--output FILE]``."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Annotated, Any, Literal

import typer
from rich.console import Console

from driftline.cli.registry import RegistryClient, RegistryError, default_url

console, err_console = Console(), Console(stderr=True)
VERSION_REF = re.compile(r"(?P<name>[a-z0-9][a-z0-9._-]{0,127})@(?P<version>[1-9][0-9]*)")


def _store() -> Any:
    """The object store the stack's services use (the local stack's, when one runs here)."""
    from driftline.client.store import stack_store

    return stack_store()


def _fail(message: str) -> None:
    err_console.print(f"[red]{message}[/]", highlight=False)
    raise typer.Exit(1)


def export_command(
    ref: Annotated[str, typer.Argument(help="The version, NAME@VERSION.")],
    to: Annotated[Literal["onnx"], typer.Option("--format", help="Export format.")] = "onnx",
    output: Annotated[Path | None, typer.Option(help="Also write the file here.")] = None,
    url: Annotated[str | None, typer.Option(help="Registry URL.")] = None,
) -> None:
    """Export a version's model to ONNX, checked against the model on its dataset's rows;
    stored beside the model (onnx.json records the check)."""
    from driftline.cli.onnx_export import ExportFailedError, export_version

    match = VERSION_REF.fullmatch(ref)
    if match is None:
        _fail(f"{ref!r} is not NAME@VERSION (e.g. churn@3)")
        return
    name, number = match["name"], int(match["version"])
    try:
        version = RegistryClient(url or default_url()).get(f"/v1/models/{name}/versions/{number}")
        found = asyncio.run(export_version(_store(), version))
    except (RegistryError, ExportFailedError) as exc:
        _fail(str(exc))
        return
    check = found.record.check
    state = "exported" if found.created else "already exported"
    console.print(f"{name}@{number} {state} to ONNX: {found.uri}\n"
                  f"check on {check.rows} rows ({check.precision} inputs): {_measures(check)} "
                  f"-> {'passed' if check.passed else 'FAILED'}", highlight=False)  # fmt: skip
    if output is not None:
        output.write_bytes(found.data)
        console.print(f"written to {output} ({len(found.data)} bytes)", highlight=False)


def _measures(check: Any) -> str:
    tolerance = check.tolerance
    if check.task == "classification":
        return (f"labels agree on {check.label_agreement:.2%} "
                f"(needs {tolerance['label_agreement']:.1%}; {check.ties} at a tie), "
                f"largest probability difference {check.max_probability_diff:.2g} "
                f"(allowed {tolerance['probability']:g})")  # fmt: skip
    return (f"largest difference {check.max_abs_diff:.2g} (allowed {check.allowed_abs_diff:.2g} = "
            f"{tolerance['regression']:g} x scale)")  # fmt: skip
