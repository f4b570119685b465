"""``driftline predictions MODEL --day D | --since T [--until T] [--version V] [--output F]``:
a model's logged predictions (the Kafka prediction log's objects) as a summary, or a file."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

console, err_console = Console(), Console(stderr=True)
FORMATS = {".parquet": "parquet", ".csv": "csv", ".jsonl": "jsonl"}


def _fail(message: str) -> None:
    err_console.print(f"[red]{message}[/]", highlight=False)
    raise typer.Exit(2)


def _write(frame: Any, output: Path) -> None:
    kind = FORMATS.get(output.suffix.lower())
    if kind == "parquet":
        frame.to_parquet(output, index=False)
    elif kind == "csv":
        frame.to_csv(output, index=False)
    else:
        frame.to_json(output, orient="records", lines=True, date_format="iso")


def predictions_command(
    model: Annotated[str, typer.Argument(help="The model's name.")],
    day: Annotated[str | None, typer.Option(help="A UTC day, YYYY-MM-DD.")] = None,
    since: Annotated[datetime | None, typer.Option(help="From (UTC if naive).")] = None,
    until: Annotated[datetime | None, typer.Option(help="Before (default: now).")] = None,
    version: Annotated[int | None, typer.Option(min=1, help="Only this version.")] = None,
    output: Annotated[Path | None, typer.Option(
        help="Write the rows here: .parquet, .csv or .jsonl (JSON lines).")] = None,
) -> None:
    """Read a model's logged predictions from the Kafka prediction log (LOG_SINK=kafka).

    Lists only the objects of the days asked for (and the day before, where a compacted
    range may begin) and keeps the rows served in the span, one column per feature.
    """
    from driftline.client.predictions import read_predictions, span
    from driftline.runtime.storage.errors import StorageError

    if output is not None and output.suffix.lower() not in FORMATS:
        _fail(f"--output must end in {', '.join(FORMATS)}: {output.name}")
    try:
        first, last = span(day, since, until)
        frame = read_predictions(model, start=first, end=last, version=version)
    except ValueError as exc:
        _fail(str(exc))
        return
    except StorageError as exc:
        _fail(f"object store: {exc}")
        return
    versions = ", ".join(str(v) for v in sorted(frame["version"].unique())) if len(frame) else "-"
    console.print(f"{model}: {len(frame):,} rows served from {first.isoformat()} to "
                  f"{last.isoformat()} (versions: {versions}; "
                  f"{sum(c.startswith('features.') for c in frame.columns)} features)",
                  highlight=False)  # fmt: skip
    if output is not None:
        _write(frame, output)
        console.print(f"written to {output}", highlight=False)
