"""``driftline ingest`` / ``datasets``: streamed uploads, default URL, errors and exit codes."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from driftline.cli.ingest import DEFAULT_URL, IngestClient, IngestError, default_url
from driftline.cli.main import app

VERSION = {"name": "churn", "upload": 3, "version": None, "sha256": "a" * 64, "rows": 2,
           "size_bytes": 8,
           "uri": "s3://driftline/datasets/churn/x.csv"}  # fmt: skip


def client(handler) -> IngestClient:
    return IngestClient("http://ingest.test", transport=httpx.MockTransport(handler))


def test_upload_streams_the_file_with_type_length_and_actor(tmp_path: Path) -> None:
    seen: dict[str, object] = {}

    def handler(request: httpx.Request) -> httpx.Response:
        seen.update(path=request.url.path, headers=dict(request.headers), body=request.read())
        return httpx.Response(201, json={**VERSION, "new": True})

    path = tmp_path / "churn.csv"
    path.write_bytes(b"a,b\n1,2\n")
    progress: list[int] = []
    body, new = client(handler).upload("churn", path, "csv", "user:alice", progress.append)
    assert new
    assert body["upload"] == 3
    assert seen["path"] == "/v1/datasets/churn"
    assert seen["body"] == b"a,b\n1,2\n"
    headers = seen["headers"]
    assert isinstance(headers, dict)
    assert headers["content-type"] == "text/csv"
    assert headers["content-length"] == "8"
    assert headers["x-driftline-actor"] == "user:alice"
    assert sum(progress) == 8


def test_existing_version_is_reported_as_not_new(tmp_path: Path) -> None:
    path = tmp_path / "x.parquet"
    path.write_bytes(b"PAR1")
    _, new = client(lambda _: httpx.Response(200, json=VERSION)).upload(
        "churn", path, "parquet", None
    )
    assert not new


def test_server_detail_is_in_the_error() -> None:
    def handler(_: httpx.Request) -> httpx.Response:
        return httpx.Response(404, json={"detail": "dataset 'nope' not found"})

    with pytest.raises(IngestError, match="404: dataset 'nope' not found"):
        client(handler).versions("nope")


def test_validation_error_lists_are_flattened() -> None:
    detail = [{"loc": ["path", "name"], "msg": "String should match pattern"}]
    with pytest.raises(IngestError, match=r"path\.name: String should match pattern"):
        client(lambda _: httpx.Response(422, json={"detail": detail})).datasets()


def test_default_url_prefers_the_environment(tmp_path: Path) -> None:
    assert default_url({"DRIFTLINE_INGEST_URL": "http://x:1"}, tmp_path) == "http://x:1"


def test_default_url_falls_back_without_a_stack(tmp_path: Path) -> None:
    assert default_url({}, tmp_path / "no-home") == DEFAULT_URL


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--dataset", "churn"], "cannot tell the format"),
        (["--dataset", "churn", "--format", "xlsx"], "--format must be csv or parquet"),
        (["--dataset", "churn", "--format", "csv", "--actor", "bob"], "user:NAME"),
    ],
)
def test_usage_errors_exit_2(tmp_path: Path, args: list[str], message: str) -> None:
    path = tmp_path / "data.txt"
    path.write_text("a\n")
    result = CliRunner().invoke(app, ["ingest", str(path), *args])
    assert result.exit_code == 2
    assert message in result.output


def test_unreachable_service_exits_1(tmp_path: Path) -> None:
    path = tmp_path / "data.csv"
    path.write_text("a\n1\n")
    result = CliRunner().invoke(
        app, ["ingest", str(path), "--dataset", "x", "--url", "http://127.0.0.1:9"]
    )
    assert result.exit_code == 1
    assert "cannot reach ingest" in result.output


def test_datasets_ls_unreachable_exits_1() -> None:
    result = CliRunner().invoke(app, ["datasets", "ls", "--url", "http://127.0.0.1:9", "--json"])
    assert result.exit_code == 1
    assert "cannot reach ingest" in result.output


@pytest.mark.parametrize(
    ("body", "shown"),
    [
        ({"version": 2, "validation_status": "validated"}, "version [bold]2[/]"),
        ({"version": None, "validation_status": "rejected"}, "rejected by validation"),
        ({"version": None, "validation_status": None}, "when validation accepts it"),
    ],
)
def test_an_upload_shows_its_version_only_once_validation_gave_one(
    body: dict[str, object], shown: str
) -> None:
    from driftline.cli.ingest import _version_text

    assert shown in _version_text(body)
