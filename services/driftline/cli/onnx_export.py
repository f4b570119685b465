"""``driftline models export NAME@V --format onnx``: the version's model as ONNX, checked.

An operator command, like ``driftline audit verify``: the registry names the version's
artifact and training dataset; the model is fetched from the object store (sha256 verified)
and loaded with the safe loader, converted, and compared with itself on the check rows: the
version's training dataset version, a seeded sample of at most ``CHECK_ROWS`` rows. The ONNX
file and its record are stored beside the model (``model.onnx``, ``onnx.json``); a version
that already has them (trained for ONNX Runtime serving, or exported before) keeps them.
"""

from __future__ import annotations

import asyncio
import io
from dataclasses import dataclass
from typing import Any

import pandas as pd

from driftline.runtime.model_loading import UnservableModelError, load_estimator
from driftline.runtime.onnx_export import OnnxExportError
from driftline.runtime.onnx_record import (
    ONNX_FILE,
    RECORD_FILE,
    OnnxRecord,
    export_files,
    sibling_uri,
)
from driftline.runtime.storage import ArtifactStore, ObjectNotFound
from driftline_contracts.signature import InputSignature

CHECK_ROWS, SEED = 10_000, 0


class ExportFailedError(Exception):
    """The version cannot be exported (the message says why)."""


@dataclass(frozen=True)
class Exported:
    """The version's ONNX file, its record and whether this call created them."""

    data: bytes
    record: OnnxRecord
    created: bool
    uri: str


def _folder_uri(version: dict[str, Any], name: str) -> str:
    uri = sibling_uri(str(version["artifact"]["uri"]), name)
    if uri is None:
        raise ExportFailedError(f"the artifact URI {version['artifact']['uri']!r} has no folder")
    return uri


async def _existing(store: ArtifactStore, version: dict[str, Any]) -> Exported | None:
    try:
        record = OnnxRecord.model_validate_json(
            await store.get_bytes(_folder_uri(version, RECORD_FILE)))
    except ObjectNotFound:
        return None
    uri = _folder_uri(version, record.file)
    return Exported(await store.get_bytes(uri, sha256=record.sha256), record, False, uri)


async def _signature(store: ArtifactStore, version: dict[str, Any]) -> InputSignature | None:
    try:
        raw = await store.get_bytes(_folder_uri(version, "signature.json"))
    except ObjectNotFound:
        return None
    return InputSignature.model_validate_json(raw)


def check_rows(data: bytes, data_format: str, features: list[str]) -> pd.DataFrame:
    """The dataset's rows for the check: the model's features, a seeded sample if large."""
    frame = pd.read_parquet(io.BytesIO(data)) if data_format == "parquet" else pd.read_csv(
        io.BytesIO(data))  # fmt: skip
    missing = [name for name in features if name not in frame.columns]
    if missing:
        raise ExportFailedError(f"the dataset lacks the model's features: {missing[:5]}")
    if len(frame) > CHECK_ROWS:
        frame = frame.sample(CHECK_ROWS, random_state=SEED)
    return frame[features].reset_index(drop=True)


async def export_version(store: ArtifactStore, version: dict[str, Any]) -> Exported:
    """The version's ONNX export, stored beside its model (or the one already there)."""
    found = await _existing(store, version)
    if found is not None:
        return found
    artifact, dataset = version["artifact"], version["dataset"]
    model_bytes = await store.get_bytes(artifact["uri"], sha256=artifact["sha256"])
    try:
        estimator, features = load_estimator(model_bytes)
    except UnservableModelError as exc:
        raise ExportFailedError(f"the version's model is refused: {exc}") from exc
    rows = check_rows(await store.get_bytes(dataset["uri"], sha256=dataset["sha256"]),
                      dataset["format"], list(features))  # fmt: skip
    signature = await _signature(store, version)
    try:
        files, record = await asyncio.to_thread(
            export_files, estimator, rows, signature, serving=False)
    except OnnxExportError as exc:
        raise ExportFailedError(str(exc)) from exc
    media = {ONNX_FILE: "application/onnx", RECORD_FILE: "application/json"}
    for name, data in files.items():
        key_uri = _folder_uri(version, name)
        await store.put_bytes(_key(store, key_uri), data, content_type=media[name])
    return Exported(files[ONNX_FILE], record, True, _folder_uri(version, ONNX_FILE))


def _key(store: ArtifactStore, uri: str) -> str:
    """The store key of ``uri`` (the inverse of ``uri_for``)."""
    prefix = store.uri_for("x")[:-1]
    if not uri.startswith(prefix):
        raise ExportFailedError(f"{uri} is outside this store ({prefix})")
    return uri.removeprefix(prefix)
