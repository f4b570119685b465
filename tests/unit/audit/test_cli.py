"""``driftline lineage`` and ``driftline kpis`` render what the audit API returns."""

from __future__ import annotations

import typer
from rich.console import Console
from typer.testing import CliRunner

from driftline.audit.kpis import compute_kpis
from driftline.cli.audit import kpis_table, lineage_command


def test_lineage_wants_model_at_version() -> None:
    app = typer.Typer()
    app.command()(lineage_command)
    result = CliRunner().invoke(app, ["churn-clf"])
    assert result.exit_code == 2
    assert "MODEL@VERSION" in result.output


def test_kpis_table_shows_dashes_where_nothing_was_measured() -> None:
    console = Console(width=120, record=True)
    console.print(kpis_table(compute_kpis([]).model_dump(mode="json")))
    text = console.export_text()
    assert "Lead time, median" in text
    assert "0/0 production models" in text
    assert text.count(" - ") >= 6
