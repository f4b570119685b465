"""A day of a model's logged predictions in one call (``driftline.client.read_predictions``)
and from the command line (``driftline predictions``), over objects written by deployment's
own compaction code in the configured store."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from driftline.cli.main import app
from driftline.client.predictions import read_predictions, span
from driftline.runtime.storage.local import LocalArtifactStore
from tests.unit.runtime.test_prediction_log_reader import NIGHT, _rows, _write


@pytest.fixture
async def objects(tmp_path: Path, monkeypatch) -> Path:
    root = tmp_path / "objects"
    store = LocalArtifactStore(root)
    await _write(store, _rows("churn", 1, NIGHT, 20, "a"))
    monkeypatch.setenv("DRIFTLINE_STORAGE__BACKEND", "local")
    monkeypatch.setenv("DRIFTLINE_STORAGE__LOCAL_ROOT", str(root))
    return root


def test_a_day_in_one_call(objects: Path) -> None:
    frame = read_predictions("churn", "2026-03-02")
    assert list(frame["request_id"]) == [f"a-{i}" for i in range(10, 20)]
    assert {"time", "version", "prediction", "score", "features.age"} <= set(frame.columns)


async def test_one_call_works_inside_a_running_event_loop_as_in_a_notebook(objects) -> None:
    frame = read_predictions("churn", start=datetime(2026, 3, 2), end=datetime(2026, 3, 2, 0, 3))
    assert list(frame["request_id"]) == ["a-10", "a-11", "a-12"]


def test_a_span_reads_as_utc_and_a_day_excludes_a_span() -> None:
    assert span(None, datetime(2026, 3, 1, 23), datetime(2026, 3, 2))[0].tzinfo == UTC
    with pytest.raises(ValueError, match="not both"):
        span("2026-03-01", datetime(2026, 3, 1), None)
    with pytest.raises(ValueError, match="a day, or a start"):
        span(None, None, None)


def test_the_command_writes_the_rows_it_counts(objects: Path, tmp_path: Path) -> None:
    out = tmp_path / "day.parquet"
    result = CliRunner().invoke(app, ["predictions", "churn", "--day", "2026-03-01",
                                      "--output", str(out)])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "churn: 10 rows served" in result.output
    assert list(pd.read_parquet(out)["request_id"]) == [f"a-{i}" for i in range(10)]


def test_the_command_refuses_what_it_cannot_do(objects: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    both = runner.invoke(app, ["predictions", "churn", "--day", "2026-03-01",
                               "--since", "2026-03-01T00:00:00"])  # fmt: skip
    assert both.exit_code == 2
    assert "not both" in both.output
    bad = runner.invoke(app, ["predictions", "churn", "--day", "2026-03-01",
                              "--output", str(tmp_path / "x.xlsx")])  # fmt: skip
    assert bad.exit_code == 2
    assert ".parquet" in bad.output
    traversal = runner.invoke(app, ["predictions", "../../etc", "--day", "2026-03-01"])
    assert traversal.exit_code == 2


@pytest.mark.parametrize(
    "args",
    [
        ["churn", "--day", "2026-13-45"],  # not a date
        ["churn", "--day", "../../etc/passwd"],  # a path where a day belongs
        ["churn", "--since", "2026-03-02T00:00:00", "--until", "2026-03-01T00:00:00"],
        ["churn", "--day", "2026-03-01", "--version", "0"],
        ["churn", "--day", "2026-03-01", "--version", "nan"],
        ["a/../../b", "--day", "2026-03-01"],
        ["", "--day", "2026-03-01"],
    ],
    ids=["bad-date", "path-as-day", "until-before-since", "version-0", "version-nan",
         "dotdot-model", "empty-model"],
)
def test_hostile_arguments_get_a_usage_error_never_a_traceback(objects: Path, args) -> None:
    result = CliRunner().invoke(app, ["predictions", *args])
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_a_name_that_is_not_a_model_name_is_refused_naming_the_rule(objects: Path) -> None:
    result = CliRunner().invoke(app, ["predictions", "churn/version=1", "--day", "2026-03-01"])
    assert result.exit_code == 2, result.output
    assert "is not a model name" in result.output
