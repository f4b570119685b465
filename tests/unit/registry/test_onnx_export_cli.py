"""``driftline models export NAME@V --format onnx``: stored beside the model, check printed."""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pandas as pd
import pytest
import skops.io as sio
from sklearn.datasets import load_breast_cancer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from typer.testing import CliRunner

from driftline.cli.main import app
from driftline.cli.onnx_export import ExportFailedError, export_version
from driftline.runtime.onnx_models import load_onnx
from driftline.runtime.onnx_record import OnnxRecord
from driftline.runtime.storage.local import LocalArtifactStore

pytest.importorskip("skl2onnx")
FOLDER = "models/cancer/run-7"


async def _version(store: LocalArtifactStore, model: object, frame: pd.DataFrame) -> dict:
    data = sio.dumps(model)
    stored = await store.put_bytes(f"{FOLDER}/model.skops", data)
    table = frame.to_csv(index=False).encode()
    dataset = await store.put_bytes("datasets/cancer/1.csv", table)
    return {
        "model": "cancer", "version": 3,
        "artifact": {"uri": stored.uri, "sha256": hashlib.sha256(data).hexdigest()},
        "dataset": {"uri": dataset.uri, "sha256": dataset.sha256, "format": "csv"},
    }  # fmt: skip


@pytest.fixture(scope="module")
def cancer() -> tuple[pd.DataFrame, pd.Series]:
    frame = load_breast_cancer(as_frame=True).frame
    return frame, frame.pop("target")


async def test_an_export_is_stored_beside_the_model_and_kept(tmp_path: Path, cancer) -> None:
    rows, labels = cancer
    model = make_pipeline(StandardScaler(), LogisticRegression()).fit(rows, labels)
    store = LocalArtifactStore(tmp_path)
    version = await _version(store, model, rows.assign(target=labels))
    first = await export_version(store, version)
    assert first.created
    assert first.record.check.passed
    assert not first.record.serving
    assert first.record.check.rows == len(rows)
    stored = OnnxRecord.model_validate_json((tmp_path / FOLDER / "onnx.json").read_bytes())
    assert stored.sha256 == hashlib.sha256(first.data).hexdigest()
    sample = rows.iloc[:50]
    assert list(load_onnx(first.data).predict(sample)) == list(model.predict(sample))
    again = await export_version(store, version)
    assert not again.created
    assert again.data == first.data


async def test_an_unsupported_model_names_its_type(tmp_path: Path, cancer) -> None:
    rows, labels = cancer
    model = HistGradientBoostingClassifier(max_iter=2, max_depth=2).fit(rows, labels)
    store = LocalArtifactStore(tmp_path)
    version = await _version(store, model, rows)
    with pytest.raises(ExportFailedError, match="HistGradientBoostingClassifier"):
        await export_version(store, version)
    assert not (tmp_path / FOLDER / "onnx.json").exists()


@pytest.fixture
def registry() -> Iterator[dict]:
    """A registry answering one version document (set ``answer['body']``)."""
    answer: dict = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            found = self.path == "/v1/models/cancer/versions/3"
            body = json.dumps(answer["body"] if found else {"detail": "no such version"})
            self.send_response(200 if found else 404)
            self.send_header("content-type", "application/json")
            self.end_headers()
            self.wfile.write(body.encode())

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    answer["url"] = f"http://127.0.0.1:{server.server_address[1]}"
    yield answer
    server.shutdown()


async def test_the_command_prints_the_check_and_writes_the_file(
    tmp_path: Path, cancer, registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows, labels = cancer
    model = make_pipeline(StandardScaler(), LogisticRegression()).fit(rows, labels)
    store = LocalArtifactStore(tmp_path / "objects")
    registry["body"] = await _version(store, model, rows)
    monkeypatch.setenv("DRIFTLINE_STORAGE__BACKEND", "local")
    monkeypatch.setenv("DRIFTLINE_STORAGE__LOCAL_ROOT", str(tmp_path / "objects"))
    output = tmp_path / "cancer.onnx"
    runner = CliRunner()
    args = ["models", "export", "cancer@3", "--format", "onnx", "--output", str(output),
            "--url", registry["url"]]  # fmt: skip
    result = await _invoke(runner, args)
    assert result.exit_code == 0, result.output
    assert "cancer@3 exported to ONNX" in result.output
    assert "labels agree on 100.00%" in result.output
    assert "passed" in result.output
    assert output.read_bytes() == (tmp_path / "objects" / FOLDER / "model.onnx").read_bytes()
    missing = await _invoke(runner, ["models", "export", "cancer@4", "--url", registry["url"]])
    assert missing.exit_code == 1
    assert "404" in missing.output
    wrong = await _invoke(runner, ["models", "export", "cancer", "--url", registry["url"]])
    assert wrong.exit_code == 1
    assert "NAME@VERSION" in wrong.output


async def _invoke(runner: CliRunner, args: list[str]) -> object:
    """The command runs its own event loop: off this test's loop, in a thread."""
    import asyncio

    return await asyncio.to_thread(runner.invoke, app, args)
