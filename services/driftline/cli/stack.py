"""``driftline stack``: run the Docker-free local stack (S3, PostgreSQL, Kafka-protocol broker)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from driftline.runtime.settings import driftline_home
from driftline.stack import (
    LocalStack,
    StackError,
    StackInfo,
    StackStatus,
    external_stack_from_env,
)
from driftline.stack.info import ENV_FILE

app = typer.Typer(
    help="Run the local stack without Docker: rclone S3, PostgreSQL 18, the tansu broker and "
    "its moto S3 log store, "
    "from Python wheels, on free loopback ports. State lives in $DRIFTLINE_HOME "
    "(default ./.driftline).",
    no_args_is_help=True,
    add_completion=False,
)
console = Console()
err_console = Console(stderr=True)

HomeOption = Annotated[
    Path | None,
    typer.Option(
        "--home",
        help="State folder (ports, pids, credentials, data, logs). Default: $DRIFTLINE_HOME "
        "or ./.driftline.",
        file_okay=False,
    ),
]
S3Port = Annotated[
    int, typer.Option(min=0, max=65535, help="Fixed S3 port (0: the recorded or a free one).")
]
PostgresPort = Annotated[
    int, typer.Option(min=0, max=65535, help="Fixed PostgreSQL port (0: automatic).")
]
BrokerPort = Annotated[
    int, typer.Option(min=0, max=65535, help="Fixed broker port (0: automatic).")
]


def _stack(home: Path | None, ports: dict[str, int] | None = None) -> LocalStack:
    """The LocalStack of ``home`` (or the default home)."""
    return LocalStack(home or driftline_home(), ports=ports)


def _fail(message: str, code: int = 1) -> typer.Exit:
    """Print ``message`` in red on stderr and return the exit to raise."""
    err_console.print(f"[red]error:[/red] {message}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


@app.command()
def up(
    home: HomeOption = None,
    s3_port: S3Port = 0,
    postgres_port: PostgresPort = 0,
    broker_port: BrokerPort = 0,
) -> None:
    """Start the servers that are not running (idempotent), create buckets, database and topics."""
    stack = _stack(home, {"s3": s3_port, "postgres": postgres_port, "broker": broker_port})
    try:
        with console.status("starting the local stack…") as spinner:

            def progress(message: str) -> None:
                console.print(f"  [green]•[/green] {message}", highlight=False)
                spinner.update(message)

            info = stack.up(progress)
    except StackError as exc:
        raise _fail(str(exc)) from None
    except KeyboardInterrupt:
        raise _fail("interrupted; stopped the servers this run had started", 130) from None
    _print_info(stack, info)


def _print_info(stack: LocalStack, info: StackInfo) -> None:
    """Table of URLs plus how to point services at the stack."""
    table = Table(title=f"Driftline local stack ({stack.home})")
    table.add_column("server")
    table.add_column("url")
    table.add_column("pid", justify="right")
    for server in stack.status().servers:
        table.add_row(server.name, server.url, str(server.pid or "-"))
    console.print(table)
    env_file = stack.home / ENV_FILE
    console.print(f"Settings written to [bold]{env_file}[/bold].", highlight=False)
    console.print("Services read them through DRIFTLINE_HOME; from another shell run:")
    console.print(f"  export DRIFTLINE_HOME={stack.home}", highlight=False, soft_wrap=True)
    console.print(f"  or: set -a; . {env_file}; set +a", highlight=False, soft_wrap=True)
    if info.auth_tokens_file is not None:
        console.print(
            f"Bearer tokens (one per role) in [bold]{info.auth_tokens_file}[/bold]: every "
            "service requires them; the CLI sends them itself.",
            highlight=False,
        )
    external = external_stack_from_env()

    def where(env: dict[str, str]) -> dict[str, str]:  # the URLs; signing keys are per home
        return {k: v for k, v in env.items() if not k.startswith("DRIFTLINE_SIGNING__")}

    if external is not None and where(external.env()) != where(info.env()):
        console.print(
            "[yellow]note:[/yellow] DRIFTLINE_* URLs exported in this shell point elsewhere "
            "and win over stack.env for processes started from it."
        )


@app.command()
def down(home: HomeOption = None) -> None:
    """Stop registered services and every server; data stays in the home folder."""
    stack = _stack(home)
    try:
        stack.down(lambda message: console.print(f"  • {message}", highlight=False))
    except StackError as exc:
        raise _fail(str(exc)) from None
    console.print(f"Local stack in {stack.home} stopped.", highlight=False)


@app.command()
def tokens(
    home: HomeOption = None,
    inline: Annotated[
        bool, typer.Option(help="Print the entries ';'-separated (for DRIFTLINE_AUTH__TOKENS).")
    ] = False,
) -> None:
    """Write (or keep) the per-role bearer tokens of the home folder; print the file's path."""
    from driftline.stack.tokens import ensure_tokens

    path = ensure_tokens((home or driftline_home()).resolve())
    if not inline:
        typer.echo(str(path))
        return
    entries = [line for line in path.read_text().splitlines() if line and line[0] != "#"]
    typer.echo("; ".join(entries))


@app.command()
def keys(
    home: HomeOption = None,
    env: Annotated[
        bool,
        typer.Option(
            help="Print `export` lines: DRIFTLINE_SIGNING_KEY_<SERVICE> (each service's private "
            "key) and DRIFTLINE_SIGNING_PUBLIC_KEYS, as docker-compose.yml reads them."
        ),
    ] = False,
) -> None:
    """Write (or keep) every service's event-signing key pair; print their folder's path."""
    import shlex

    from driftline.runtime.services import SERVICE_NAMES
    from driftline.stack.event_keys import ensure_event_keys, private_key_path, public_keys_path

    root = (home or driftline_home()).resolve()
    folder = ensure_event_keys(root)
    if not env:
        typer.echo(str(folder))
        return
    lines = [line for line in public_keys_path(root).read_text().splitlines() if line[:1] != "#"]
    typer.echo(f"export DRIFTLINE_SIGNING_PUBLIC_KEYS={shlex.quote('; '.join(lines))}")
    for service in SERVICE_NAMES:
        key = private_key_path(root, service).read_text().strip()
        typer.echo(f"export DRIFTLINE_SIGNING_KEY_{service.upper()}={shlex.quote(key)}")


@app.command()
def status(
    home: HomeOption = None,
    as_json: Annotated[
        bool,
        typer.Option(
            "--json", help="Print JSON: servers and services (URL, pid, alive, restarts)."
        ),
    ] = False,
) -> None:
    """Show each server (URL, pid, alive, answering) and registered service; exit 1 if unhealthy."""
    report = _stack(home).status()
    if as_json:
        typer.echo(json.dumps(report.to_dict(), indent=2))
    else:
        _print_status(report)
    if not report.healthy:
        raise typer.Exit(1)


def _print_status(report: StackStatus) -> None:
    """Human-readable status tables."""
    table = Table(title=f"Driftline local stack ({report.home})")
    for column in ("server", "url", "pid", "alive", "answering"):
        table.add_column(column)
    for s in report.servers:
        table.add_row(s.name, s.url or "-", str(s.pid or "-"), _mark(s.alive), _mark(s.answering))
    console.print(table)
    if report.services:
        services = Table(title="services")
        for column in ("service", "url", "pid", "alive", "restarts", "last exit"):
            services.add_column(column)
        for service in report.services:
            last = service.last_exit or "-"
            row = (service.name, service.url, str(service.pid), _mark(service.alive))
            services.add_row(*row, str(service.restarts), last)
        console.print(services)


def _mark(flag: bool) -> str:
    """Green yes / red no."""
    return "[green]yes[/green]" if flag else "[red]no[/red]"
