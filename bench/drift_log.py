"""Driftline reading the drift window from the Kafka prediction log's Parquet objects.

``write_log`` turns the current frame into the log's real objects with deployment's own code:
requests of 100 rows become log records (``encode_record``), compacted 20,000 rows per object
(``compact``, the default ``LOG_COMPACT_ROWS``) into a ``LocalArtifactStore``; a manifest
keeps the ``PredictionsLogged`` events. ``from_log`` runs in the worker's fresh process: it
rebuilds the buffered rows monitoring's store hands over when a window closes (by reference,
no features: PostgreSQL's ``take``, not timed) and times monitoring's path from the objects to
the verdicts: ``window_features`` (read the objects into the frame) → ``window_data`` →
``evaluate_window`` with the profile held, as ``bench.drift_worker`` times it.
"""

from __future__ import annotations

import asyncio
import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd

from driftline.deployment.models.predictor import Predicted
from driftline.deployment.prediction_log.columnar import encode_record
from driftline.deployment.prediction_log.compaction import compact
from driftline.deployment.serving.served_rows import ServedRows
from driftline.monitoring.evaluation import Reference, Tolerances, WindowData, evaluate_window
from driftline.monitoring.records import BufferedRow
from driftline.monitoring.settings import MonitoringSection
from driftline.monitoring.window_frame import window_features
from driftline.monitoring.workflow import window_data
from driftline.runtime.storage.local import LocalArtifactStore
from driftline.stats.profile import DatasetProfile
from driftline_contracts.events.monitoring import PredictionsLogged
from driftline_contracts.modelspec import DriftPolicy

MODEL = "drift-bench"
ROWS_PER_REQUEST = 100
ROWS_PER_OBJECT = 20_000
T0 = datetime(2026, 12, 7, tzinfo=UTC)
MANIFEST = "manifest.json"


def request_id(row: int) -> str:
    """The request id of the frame's ``row``."""
    return f"r-{row:08d}"


def _served(records: list[dict], first: int) -> ServedRows:
    """One request of the frame's rows ``first..first+len(records)``, served at row time."""
    n, rows = len(records), range(first, first + len(records))
    return ServedRows(
        model=MODEL, canary_id=None, created_at=T0 + timedelta(milliseconds=first),
        request_ids=[request_id(i) for i in rows], features=records, versions=[1] * n,
        variants=["champion"] * n, predicted=Predicted([i % 2 for i in rows], [None] * n,
                                                       [None] * n, [None] * n),
        latencies=[1.0] * n,
    )  # fmt: skip


async def _write(
    frame: pd.DataFrame, store: LocalArtifactStore, per_object: int, per_request: int
) -> list[PredictionsLogged]:
    records, events, offset = frame.to_dict("records"), [], 0
    for start in range(0, len(records), per_object):
        stop = min(start + per_object, len(records))
        values = [encode_record(_served(records[i : min(i + per_request, stop)], i))
                  for i in range(start, stop, per_request)]  # fmt: skip
        offsets = list(range(offset, offset + len(values)))
        found, skipped = await compact(store, 0, offsets, values)
        assert skipped == 0, "the bench wrote a record compaction does not read"
        events += found
        offset += len(values)
    return events


def write_log(
    frame: pd.DataFrame,
    root: Path,
    per_object: int = ROWS_PER_OBJECT,
    per_request: int = ROWS_PER_REQUEST,
) -> list[PredictionsLogged]:
    """``frame``'s rows as prediction log objects under ``root``, plus their manifest."""
    events = asyncio.run(_write(frame, LocalArtifactStore(root), per_object, per_request))
    manifest = [e.model_dump(mode="json") for e in events]
    (root / MANIFEST).write_text(json.dumps(manifest))
    return events


def buffered(events: list[PredictionsLogged]) -> list[BufferedRow]:
    """The rows monitoring buffered from ``events``, as its store's ``take`` returns them."""
    rows: list[BufferedRow] = []
    for event in events:
        first, version = len(rows), event.model.version
        rows += [BufferedRow(i + 1, version, request_id(i), T0, None, i % 2, event.batch)
                 for i in range(first, first + event.count)]  # fmt: skip
    return rows


def read_manifest(root: Path) -> list[PredictionsLogged]:
    """The events ``write_log`` wrote."""
    found = json.loads((root / MANIFEST).read_text())
    return [PredictionsLogged.model_validate(e) for e in found]


async def window_from_log(rows: list[BufferedRow], store: LocalArtifactStore) -> WindowData:
    """Monitoring's path from buffered rows to the window's data (objects read, frame built)."""
    limit = MonitoringSection().max_batch_bytes
    return window_data(rows, {}, await window_features(rows, store, limit))


def evaluate_from_log(root: Path, rows: list[BufferedRow], profile: DatasetProfile) -> dict:
    """One window from the log: seconds to read + build the frame, to evaluate, the result."""
    start = time.perf_counter()
    data = asyncio.run(window_from_log(rows, LocalArtifactStore(root)))
    read = time.perf_counter() - start
    result = evaluate_window(Reference(profile, "target", "classification"), data,
                             DriftPolicy(), Tolerances())  # fmt: skip
    return {"read_s": read, "total_s": time.perf_counter() - start, "result": result}
