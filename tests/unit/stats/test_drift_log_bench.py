"""The drift benchmark's prediction-log side: the objects it writes hold exactly the window's
rows, and the window monitoring reads back from them is the frame the other sides get."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq

from bench import drift_log
from bench.drift_frames import frame
from driftline.monitoring.evaluation import Reference, Tolerances, WindowData, evaluate_window
from driftline.runtime.storage.local import LocalArtifactStore
from driftline.stats.profile import profile_frame
from driftline_contracts.modelspec import DriftPolicy


def test_the_log_objects_hold_exactly_the_windows_rows(tmp_path: Path) -> None:
    current = frame(250, 2, shifted=True)
    events = drift_log.write_log(current, tmp_path, per_object=100, per_request=30)
    assert [e.count for e in events] == [100, 100, 50]
    assert drift_log.read_manifest(tmp_path) == events
    tables = [pq.read_table(Path(e.batch.uri.removeprefix("file://"))) for e in events if e.batch]
    ids = [i for t in tables for i in t["request_id"].to_pylist()]
    assert ids == [drift_log.request_id(i) for i in range(250)]
    stored = pd.concat(
        [pd.DataFrame.from_records(t["features"].to_pylist()) for t in tables], ignore_index=True
    )
    pd.testing.assert_frame_equal(stored, current)


def test_the_window_read_from_the_log_is_the_direct_frame_and_verdicts(tmp_path: Path) -> None:
    reference, current = frame(400, 1, shifted=False), frame(300, 2, shifted=True)
    events = drift_log.write_log(current, tmp_path, per_object=120, per_request=50)
    rows = drift_log.buffered(events)
    assert [r.features for r in rows] == [None] * 300  # buffered by reference, as monitoring does
    data = asyncio.run(drift_log.window_from_log(rows, LocalArtifactStore(tmp_path)))
    pd.testing.assert_frame_equal(data.features, current)
    assert data.predictions == [i % 2 for i in range(300)]

    profile = profile_frame(reference, sha256="0" * 64)
    direct = evaluate_window(Reference(profile, "target", "classification"),
                             WindowData(current, [], []), DriftPolicy(), Tolerances())  # fmt: skip
    from_log = drift_log.evaluate_from_log(tmp_path, rows, profile)
    assert from_log["result"].features == direct.features
    assert from_log["total_s"] >= from_log["read_s"] > 0
