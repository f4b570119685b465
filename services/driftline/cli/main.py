"""Entry point of the ``driftline`` command: one Typer app with a sub-command per area."""

from __future__ import annotations

import typer

from driftline.cli import demo, publish, serve, stack

app = typer.Typer(
    name="driftline",
    help="Driftline: event-driven MLOps. Run the local stack, the services, publish events.",
    no_args_is_help=True,
    add_completion=False,
)
app.add_typer(stack.app, name="stack")
app.add_typer(publish.app, name="publish")
serve.register(app)
app.command("demo")(demo.demo_command)


def run() -> None:
    """Console-script entry point."""
    app()
