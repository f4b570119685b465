"""Batch scoring: a CSV or Parquet object in, a predictions file of the same format out.

Routing is the serving path's: the champion scores unless the request names the running
canary. Rows are predicted in chunks off the event loop; a row the model fails on gets an
``error`` and the others are scored. Batch predictions are not added to the prediction log
(the file is their record); monitoring watches online traffic.
"""

from __future__ import annotations

import asyncio
import io
import time
from typing import Literal

import pandas as pd

from driftline.deployment.deps import DeploymentDeps
from driftline.deployment.models.loading import UNLOADABLE, LoadedModel
from driftline.deployment.models.predictor import predict_rows
from driftline.deployment.records import Served
from driftline.deployment.scoring.ports import ServingVersions
from driftline.runtime.storage import IntegrityError, ObjectNotFound, UriNotAllowed
from driftline.runtime.storage.streams import sha256_hex
from driftline_contracts.events.deployment import (
    BatchScored,
    BatchScoringFailed,
    BatchScoringRequested,
)
from driftline_contracts.values import ArtifactRef, ModelRef, Reason

Format = Literal["csv", "parquet"]
MEDIA_TYPES = {"csv": "text/csv", "parquet": "application/vnd.apache.parquet"}


class BatchRefused(Exception):  # noqa: N818 - reads as what happened
    """The job cannot run; ``reason`` says why (it becomes BatchScoringFailed)."""

    def __init__(self, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.reason = Reason(code=code, message=message[:2000], field=field)


def input_format(uri: str, declared: Format | None) -> Format:
    """The declared format, else the one the URI's extension names."""
    if declared is not None:
        return declared
    path = uri.lower().split("?", 1)[0]
    if path.endswith((".csv", ".csv.gz")):
        return "csv"
    if path.endswith((".parquet", ".pq")):
        return "parquet"
    raise BatchRefused("unknown_format", f"cannot tell the format of {uri}; set format")


def read_frame(data: bytes, fmt: Format) -> pd.DataFrame:
    """The dataset's rows; ``BatchRefused`` if the bytes are not a readable table."""
    try:
        if fmt == "csv":
            return pd.read_csv(io.BytesIO(data), compression="infer")
        return pd.read_parquet(io.BytesIO(data))
    except Exception as exc:  # pandas and pyarrow raise many kinds for a bad file
        raise BatchRefused("unreadable_input", f"not a readable {fmt} file: {exc}") from exc


def write_frame(frame: pd.DataFrame, fmt: Format) -> bytes:
    """``frame`` as CSV or Parquet bytes."""
    if fmt == "csv":
        return frame.to_csv(index=False).encode()
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    return buffer.getvalue()


def score_frame(
    model: LoadedModel, frame: pd.DataFrame, id_column: str | None, chunk_rows: int
) -> pd.DataFrame:
    """One output row per input row: row, the id column, prediction, score, error."""
    missing = [f for f in model.features if f not in frame.columns]
    if missing:
        raise BatchRefused(
            "missing_feature", f"the input lacks features: {', '.join(missing)}", missing[0]
        )
    if id_column is not None and id_column not in frame.columns:
        raise BatchRefused("missing_id_column", f"no column {id_column!r}", id_column)
    features = frame[list(model.features)]
    results = [
        result
        for start in range(0, len(frame), chunk_rows)
        for result in predict_rows(model, features.iloc[start : start + chunk_rows])
    ]
    out = pd.DataFrame({"row": range(len(frame))})
    if id_column is not None:
        out[id_column] = frame[id_column].to_numpy()
    out["prediction"] = pd.Series([r.prediction for r in results], dtype=object)
    out["score"] = [r.score for r in results]
    out["error"] = pd.Series([r.error for r in results], dtype=object)
    return out


async def _scorer(versions: ServingVersions, event: BatchScoringRequested) -> Served:
    deployment = await versions.deployment(event.model)
    if deployment.champion is None:
        raise BatchRefused("unknown_model", f"model {event.model!r} has no servable version")
    if event.variant == "champion":
        return deployment.champion
    if deployment.canary is None:
        raise BatchRefused("no_canary", f"model {event.model!r} has no running canary")
    return deployment.canary.challenger


async def _input(deps: DeploymentDeps, event: BatchScoringRequested) -> bytes:
    try:
        return await deps.store.get_bytes(event.input_uri, sha256=event.sha256)
    except ObjectNotFound as exc:
        raise BatchRefused("object_not_found", str(exc)) from exc
    except UriNotAllowed as exc:
        raise BatchRefused("uri_not_allowed", str(exc)) from exc
    except IntegrityError as exc:
        raise BatchRefused("sha256_mismatch", str(exc)) from exc


async def score_batch(
    event: BatchScoringRequested, versions: ServingVersions, deps: DeploymentDeps
) -> BatchScored | BatchScoringFailed:
    """Run one job: route, read, score, write; the event saying how it went."""
    started = time.perf_counter()
    try:
        fmt = input_format(event.input_uri, event.format)
        served = await _scorer(versions, event)
        try:
            model = await deps.cache.get(served.model, served.artifact)
        except UNLOADABLE as exc:
            raise BatchRefused("model_unloadable", str(exc)) from exc
        data = await _input(deps, event)
        frame = await asyncio.to_thread(read_frame, data, fmt)
        chunk = deps.settings.batch_chunk_rows
        out = await asyncio.to_thread(score_frame, model, frame, event.id_column, chunk)
        blob = await asyncio.to_thread(write_frame, out, fmt)
    except BatchRefused as refused:
        return BatchScoringFailed(
            model=event.model,
            job_id=event.job_id,
            input_uri=event.input_uri,
            reasons=[refused.reason],
        )
    key = f"predictions/{event.model}/batch/{event.job_id}.{fmt}"
    stored = await deps.store.put_bytes(key, blob, content_type=MEDIA_TYPES[fmt])
    return BatchScored(
        model=ModelRef(name=served.model.name, version=served.model.version),
        job_id=event.job_id,
        variant=event.variant,
        input_uri=event.input_uri,
        input_sha256=event.sha256 or sha256_hex(data),
        predictions=ArtifactRef(
            uri=stored.uri,
            sha256=stored.sha256,
            media_type=MEDIA_TYPES[fmt],
            size_bytes=stored.size_bytes,
        ),
        rows=len(out),
        errors=int(out["error"].notna().sum()),
        duration_s=time.perf_counter() - started,
    )
