"""Entry point of the ``driftline`` command: one Typer app with a sub-command per area."""

from __future__ import annotations

import typer

from driftline.cli import (
    audit,
    demo,
    docs,
    export,
    ingest,
    monitoring,
    predictions,
    publish,
    registry,
    serve,
    stack,
    submit,
    training,
)

app = typer.Typer(
    name="driftline",
    help="Driftline: event-driven MLOps. Run the local stack, the services, publish events.",
    no_args_is_help=True,
    add_completion=False,
)
app.add_typer(stack.app, name="stack")
app.add_typer(publish.app, name="publish")
app.add_typer(audit.app, name="audit")
app.add_typer(docs.app, name="docs")
serve.register(app)
app.command("demo")(demo.demo_command)
app.command("lineage")(audit.lineage_command)
app.command("kpis")(audit.kpis_command)
app.command("ingest")(ingest.ingest_command)
app.add_typer(ingest.datasets_app, name="datasets")
app.add_typer(monitoring.drift_app, name="drift")
app.command("apply")(registry.apply_command)
registry.models_app.command("submit")(submit.submit_command)
registry.models_app.command("export")(export.export_command)
app.add_typer(registry.models_app, name="models")
app.add_typer(training.runs_app, name="runs")
app.command("reproduce")(training.reproduce_command)
app.command("predictions")(predictions.predictions_command)


def run() -> None:
    """Console-script entry point."""
    app()
