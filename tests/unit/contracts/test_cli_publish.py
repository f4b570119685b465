"""``driftline publish``: argument errors name the option and exit 2, dry runs need no broker."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from driftline.cli.publish import app
from driftline_contracts.events import ModelTrained
from driftline_contracts.examples import example

SHA = "ab" * 32
runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, list(args))


def test_dry_run_validates_and_prints_the_envelope_as_json():
    result = run(
        "data-arrived",
        "--dataset",
        "churn",
        "--uri",
        "s3://lake/churn.parquet",
        "--sha256",
        SHA,
        "--source",
        "pipeline/nightly-etl",
        "--actor",
        "pipeline:nightly-etl",
        "--version",
        "3",
        "--dry-run",
        "--json",
    )
    assert result.exit_code == 0, result.output
    printed = json.loads(result.output)
    assert printed["envelope"]["type"] == "io.driftline.data.arrived.v1"
    assert printed["envelope"]["subject"] == "churn"
    assert printed["envelope"]["source"] == "pipeline/nightly-etl"
    assert (
        printed["data"]["dataset"] | {"format": "parquet", "version": 3}
        == printed["data"]["dataset"]
    )


def test_a_local_file_gets_its_sha256_size_and_format(tmp_path: Path):
    data = tmp_path / "churn.csv"
    data.write_bytes(b"a,b\n1,2\n")
    result = run("data-arrived", "--dataset", "churn", "--uri", str(data), "--dry-run", "--json")
    assert result.exit_code == 0, result.output
    dataset = json.loads(result.output)["data"]["dataset"]
    assert dataset["sha256"] == hashlib.sha256(b"a,b\n1,2\n").hexdigest()
    assert dataset["size_bytes"] == 8
    assert dataset["format"] == "csv"
    assert dataset["uri"].startswith("file://")


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (["--dataset", "Churn!", "--uri", "s3://b/k.csv", "--sha256", SHA], "--dataset"),
        (["--dataset", "churn", "--uri", "s3://b/k.csv", "--sha256", "xyz"], "--sha256"),
        (["--dataset", "churn", "--uri", "s3://b/k.csv"], "--sha256"),
        (["--dataset", "churn", "--uri", "s3://b/k", "--sha256", SHA], "--format"),
        (
            ["--dataset", "churn", "--uri", "s3://b/k.csv", "--sha256", SHA, "--format", "xlsx"],
            "--format",
        ),
        (
            ["--dataset", "churn", "--uri", "s3://b/k.csv", "--sha256", SHA, "--version", "0"],
            "--version",
        ),
        (["--dataset", "churn", "--uri", "/no/such/file.csv"], "--uri"),
        (
            ["--dataset", "churn", "--uri", "s3://b/k.csv", "--sha256", SHA, "--actor", "bob"],
            "--actor",
        ),
        (
            ["--dataset", "churn", "--uri", "s3://b/k.csv", "--sha256", SHA, "--source", "a b"],
            "--source",
        ),
    ],
)
def test_bad_input_exits_2_naming_the_option(args, option):
    result = run("data-arrived", *args, "--dry-run")
    assert result.exit_code == 2
    assert option in result.output


def test_any_event_from_a_json_file(tmp_path: Path):
    path = tmp_path / "trained.json"
    path.write_text(example(ModelTrained).model_dump_json())
    result = run(
        "event",
        "--type",
        ModelTrained.ce_type,
        "--data-file",
        str(path),
        "--actor",
        "service:training",
        "--dry-run",
    )
    assert result.exit_code == 0, result.output
    assert "io.driftline.training.model-trained.v1" in result.output
    assert "subject=churn-clf" in result.output


def test_any_event_errors_exit_2(tmp_path: Path):
    path = tmp_path / "bad.json"
    path.write_text('{"model": "churn-clf"}')
    assert "--type" in run("event", "--type", "io.x.v1", "--data-file", str(path)).output
    result = run("event", "--type", ModelTrained.ce_type, "--data-file", str(path), "--dry-run")
    assert result.exit_code == 2
    assert "run_id" in result.output
    missing = run("event", "--type", ModelTrained.ce_type, "--data-file", str(tmp_path / "x"))
    assert missing.exit_code == 2
    assert "--data-file" in missing.output


def test_an_unreachable_broker_is_a_clear_failure():
    result = run(
        "data-arrived",
        "--dataset",
        "churn",
        "--uri",
        "s3://b/k.csv",
        "--sha256",
        SHA,
        "--bootstrap-servers",
        "127.0.0.1:1",
    )
    assert result.exit_code == 1
    assert "could not publish to 127.0.0.1:1" in result.output
