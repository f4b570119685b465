"""`driftline docs asyncapi` (each service's AsyncAPI document) and `driftline docs client-api`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from driftline.runtime.app import load_definition
from driftline.runtime.asyncapi import Document, asyncapi_document, render, stale
from driftline.runtime.services import SERVICE_NAMES

app = typer.Typer(help="Generated reference documents.", no_args_is_help=True)


def documents(services: tuple[str, ...] = SERVICE_NAMES) -> dict[str, Document]:
    """The AsyncAPI document of each service, from the subscriptions it really runs."""
    # Subscriptions are static declarations: building them needs no running service.
    return {
        name: asyncapi_document(
            name,
            load_definition(name).subscriptions(None),  # type: ignore[arg-type]  # static
        )
        for name in services
    }


@app.command("asyncapi")
def asyncapi_command(
    service: Annotated[
        str | None, typer.Argument(help="One service (default: all, needs --write or --check).")
    ] = None,
    write: Annotated[
        Path | None, typer.Option(help="Write SERVICE.json files into this folder.")
    ] = None,
    check: Annotated[
        Path | None, typer.Option(help="Exit 1 if the files in this folder are stale.")
    ] = None,
) -> None:
    """AsyncAPI 3.0 of the Kafka events a service receives and sends (payloads = contracts)."""
    if service is not None and service not in SERVICE_NAMES:
        typer.echo(f"unknown service {service!r}; one of: {', '.join(SERVICE_NAMES)}", err=True)
        raise typer.Exit(2)
    found = documents((service,) if service else SERVICE_NAMES)
    if check is not None:
        outdated = stale(check, found)
        for name in outdated:
            typer.echo(f"{check / name}.json is stale: run driftline docs asyncapi --write {check}")
        raise typer.Exit(1 if outdated else 0)
    if write is not None:
        write.mkdir(parents=True, exist_ok=True)
        for name, document in found.items():
            (write / f"{name}.json").write_text(render(document))
            typer.echo(f"wrote {write / name}.json")
        return
    if service is None:
        typer.echo("name a SERVICE to print, or pass --write DIR / --check DIR", err=True)
        raise typer.Exit(2)
    typer.echo(render(found[service]), nl=False)


@app.command("client-api")
def client_api_command(
    write: Annotated[
        Path | None, typer.Option(help="Write the Markdown here (e.g. docs/client-api.md).")
    ] = None,
) -> None:
    """The Python client's API reference (Markdown), from its docstrings: printed or written."""
    # Imported here: the reference reads the client and the tracking models, not needed otherwise.
    from driftline.client.reference_markdown import render as render_client_api

    text = render_client_api()
    if write is None:
        typer.echo(text, nl=False)
        return
    write.parent.mkdir(parents=True, exist_ok=True)
    write.write_text(text)
    typer.echo(f"wrote {write}")
