"""``driftline serve``, ``driftline up`` and ``driftline migrate``: run the services."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer

from driftline.runtime.services import SERVICE_NAMES, SERVICE_PORTS

ServiceName = Annotated[
    str,
    typer.Argument(help=f"One of: {', '.join(SERVICE_NAMES)}.", show_default=False),
]


def _check_service(name: str) -> str:
    if name not in SERVICE_PORTS:
        raise typer.BadParameter(
            f"unknown service {name!r}; expected one of {', '.join(SERVICE_NAMES)}",
            param_hint="SERVICE",
        )
    return name


def _check_slot(slot: str) -> str:
    """``NAME`` or ``NAME#N`` (another replica of NAME, N a number)."""
    name, _, replica = slot.partition("#")
    _check_service(name)
    if "#" in slot and not (replica.isdigit() and 1 < int(replica) < 1000):
        raise typer.BadParameter(
            f"bad replica {slot!r}; expected NAME#N with N from 2 to 999", param_hint="SERVICE"
        )
    return slot


def serve_command(
    service: ServiceName,
    host: Annotated[str | None, typer.Option(help="Bind address (default from settings).")] = None,
    port: Annotated[int | None, typer.Option(help="HTTP port (default: the service's).")] = None,
    workers: Annotated[
        int,
        typer.Option(
            min=1, max=64, envvar="DRIFTLINE_SERVE_WORKERS",
            help="Processes sharing the port (deployment only): each a replica of the service.",
        ),
    ] = 1,
) -> None:  # fmt: skip
    """Run one service: its consumers, outbox relay and HTTP endpoints (until SIGTERM)."""
    from driftline.runtime.app import serve
    from driftline.runtime.auth import AuthNotConfiguredError
    from driftline.runtime.event_origin import SigningNotConfiguredError

    if workers > 1 and service != "deployment":
        raise typer.BadParameter(
            "only deployment serves from several processes; scale others by replicas",
            param_hint="--workers",
        )
    try:
        serve(_check_service(service), host=host, port=port, workers=workers)
    except (AuthNotConfiguredError, SigningNotConfiguredError) as exc:
        typer.echo(f"error: {service}: {exc}", err=True)
        raise typer.Exit(2) from exc


def migrate_command(
    services: Annotated[list[str] | None, typer.Argument(help="Services (default: all).")] = None,
) -> None:
    """Apply database migrations for the given services (each owns one schema)."""
    from driftline.runtime.app import load_definition
    from driftline.runtime.db import build_engine, schema_for
    from driftline.runtime.migrations import migrate
    from driftline.runtime.settings import RuntimeSettings

    async def run(names: list[str]) -> None:
        settings = RuntimeSettings.load()
        for name in names:
            definition = load_definition(name)
            engine = build_engine(settings.database, schema_for(name))
            try:
                await migrate(engine, schema_for(name), definition.migrations)
            finally:
                await engine.dispose()
            typer.echo(f"migrated {name} (schema {schema_for(name)})")

    asyncio.run(run([_check_service(s) for s in services or SERVICE_NAMES]))


def up_command(
    services: Annotated[
        list[str] | None,
        typer.Argument(help="Services (default: all); NAME#2 runs a second replica of NAME."),
    ] = None,
    restart: Annotated[
        bool, typer.Option(help="Start a crashed service again (systemd Restart=on-failure).")
    ] = True,
    restart_burst: Annotated[
        int, typer.Option(min=1, help="Give a service up after this many crashes in the window.")
    ] = 5,
    restart_window: Annotated[
        float, typer.Option(min=1, help="Seconds in which --restart-burst crashes give up.")
    ] = 120.0,
    max_backoff: Annotated[
        float, typer.Option(min=1, help="Longest wait before a restart (1 s, doubling).")
    ] = 30.0,
) -> None:
    """Start the local stack and every service as separate processes and keep them running:
    a crashed service is restarted with back-off; Ctrl-C or SIGTERM stops them all."""
    from driftline.stack.errors import StackError
    from driftline.stack.restarts import RestartPolicy
    from driftline.stack.up import run_services_foreground

    policy = RestartPolicy(
        enabled=restart, burst=restart_burst, window_s=restart_window, max_backoff_s=max_backoff
    )
    try:
        run_services_foreground([_check_slot(s) for s in services or SERVICE_NAMES], policy)
    except StackError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None


def register(app: typer.Typer) -> None:
    """Mount the commands on the top-level app."""
    app.command("serve")(serve_command)
    app.command("migrate")(migrate_command)
    app.command("up")(up_command)
