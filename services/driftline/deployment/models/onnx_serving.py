"""Versions served by ONNX Runtime: the export training made when the spec asked for it.

A version trained with ``serving: {runtime: onnx}`` has ``model.onnx`` and its record
``onnx.json`` beside ``model.skops``; the record says ``serving: true`` and gives the file's
sha256. Such a version is served from that file (the skops model is not loaded); every other
version, including one exported only by ``driftline models export``, as trained.
"""

from __future__ import annotations

import asyncio

from pydantic import ValidationError

from driftline.deployment.errors import ModelLoadRefused
from driftline.deployment.models.signature import MODEL_FILE
from driftline.runtime.logging import get_logger
from driftline.runtime.onnx_models import OnnxModel, OnnxModelError, load_onnx
from driftline.runtime.onnx_record import RECORD_FILE, OnnxRecord, sibling_uri
from driftline.runtime.storage import ArtifactStore, ObjectNotFound
from driftline_contracts.values import ArtifactRef

log = get_logger(__name__)


async def serving_record(store: ArtifactStore, artifact: ArtifactRef) -> OnnxRecord | None:
    """The version's ONNX record if the version serves with ONNX Runtime, else None."""
    if not artifact.uri.endswith("/" + MODEL_FILE):
        return None
    uri = sibling_uri(artifact.uri, RECORD_FILE)
    try:
        record = OnnxRecord.model_validate_json(await store.get_bytes(str(uri)))
    except ObjectNotFound:
        return None
    except ValidationError as exc:  # a record we cannot read must not silently change runtime
        raise ModelLoadRefused(f"{RECORD_FILE} is unreadable: {exc}") from exc
    return record if record.serving else None


async def fetch_onnx_model(store: ArtifactStore, artifact: ArtifactRef,
                           record: OnnxRecord) -> OnnxModel:  # fmt: skip
    """The version's ONNX file, sha256-verified, in an ONNX Runtime session."""
    if "/" in record.file or record.file.startswith("."):
        raise ModelLoadRefused(f"{RECORD_FILE} names a file outside the version: {record.file!r}")
    uri = str(sibling_uri(artifact.uri, record.file))
    data = await store.get_bytes(uri, sha256=record.sha256)
    try:
        model = await asyncio.to_thread(load_onnx, data)
    except OnnxModelError as exc:
        raise ModelLoadRefused(f"ONNX model refused: {exc}") from exc
    log.info("serving with ONNX Runtime", uri=uri, precision=record.check.precision)
    return model
