"""Compaction: an offset range of the Kafka prediction log becomes Parquet objects and events.

Deterministic in the range: the same offsets give the same object keys and the same batch ids,
so compacting a range again (after a crash between writing the objects and recording the
progress) overwrites the objects and is refused by the progress check, never announced twice.
A range is recorded as begun before its objects are written, so the range compacted again is
the same one, not a longer one read after the restart (whose objects would lie beside the
first attempt's, holding the same rows twice).
"""

from __future__ import annotations

import asyncio
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field

from driftline.deployment.prediction_log.columnar import (
    PARQUET,
    VersionRows,
    group_records,
    object_key,
    parquet_bytes,
    version_table,
)
from driftline.deployment.rollout.events import window
from driftline.runtime.storage import ArtifactStore
from driftline_contracts.events.monitoring import PredictionsLogged
from driftline_contracts.values import ArtifactRef, ModelRef


@dataclass
class PartitionBuffer:
    """Records read from one partition and not yet compacted, with when the oldest arrived."""

    partition: int
    offsets: list[int] = field(default_factory=list)
    values: list[bytes] = field(default_factory=list)
    start: int | None = None
    """The partition's compacted position when reading began (None: never compacted)."""
    until: int | None = None
    """The last offset of a range begun before (by a compactor that died or lost the partition):
    the next range ends exactly there, so it is compacted into the same objects."""
    rows: int = 0
    since: float | None = None
    """Monotonic time the oldest buffered record was read."""

    def add(self, offset: int, value: bytes, rows: int, now: float) -> None:
        """One record read at ``now``."""
        if self.since is None:
            self.since = now
        self.offsets.append(offset)
        self.values.append(value)
        self.rows += rows

    def due(self, now: float, max_rows: int, max_age_s: float) -> bool:
        """Whether the buffer should be compacted: enough rows, or the oldest waited enough."""
        if not self.offsets or self.since is None:
            return False
        if self.until is not None:  # a begun range: exactly it, once it is all read
            return self.offsets[-1] >= self.until
        return self.rows >= max_rows or now - self.since >= max_age_s

    def cut(self) -> tuple[list[int], list[bytes], int]:
        """The next range's offsets, values and last offset: up to ``until`` when a range was
        begun, else everything buffered."""
        if self.until is None:
            return self.offsets, self.values, self.offsets[-1]
        n = bisect_right(self.offsets, self.until)
        return self.offsets[:n], self.values[:n], self.until

    def clear(self, start: int | None, until: int | None = None) -> None:
        """Forget the buffered records; reading (re)starts at ``start``."""
        self.offsets, self.values, self.rows, self.since = [], [], 0, None
        self.start, self.until = start, until


def batch_id(partition: int, first: int, last: int, version: int) -> str:
    """The batch id of one version's rows from one offset range (the same on every retry)."""
    return f"log-p{partition}-{first}-{last}-v{version}"


async def compact(
    store: ArtifactStore, partition: int, offsets: Sequence[int], values: Sequence[bytes | None]
) -> tuple[list[PredictionsLogged], int]:
    """Write the range's Parquet objects (one per model version): their events, not yet sent,
    and how many records were skipped as not the log's.

    The objects are built on a worker thread: a range holds up to ``LOG_COMPACT_ROWS`` rows
    (20,000 by default, about 70 ms of CPU), which on the event loop would have held every
    request being served for that long; on a thread the loop takes its turn every few ms."""
    first, last = offsets[0], offsets[-1]
    events = []
    objects, skipped = await asyncio.to_thread(parquet_objects, values)
    for rows, data in objects:
        key = object_key(rows, partition, first, last)
        stored = await store.put_bytes(key, data, content_type=PARQUET)
        ref = ArtifactRef(
            uri=stored.uri, sha256=stored.sha256, media_type=PARQUET,
            size_bytes=stored.size_bytes,
        )  # fmt: skip
        events.append(
            PredictionsLogged(
                model=ModelRef(name=rows.model, version=rows.version),
                batch_id=batch_id(partition, first, last, rows.version),
                window=window(min(rows.time), max(rows.time)),
                count=len(rows),
                batch=ref,
                log_offsets=f"{partition}:{first}-{last}",
            )
        )
    return events, skipped


def parquet_objects(
    values: Sequence[bytes | None],
) -> tuple[list[tuple[VersionRows, bytes]], int]:
    """Each model version's rows of the records and its Parquet object; how many records were
    skipped as not the log's (pure CPU: decoding, regrouping, encoding)."""
    groups, skipped = group_records(values)
    return [(rows, parquet_bytes(version_table(rows))) for rows in groups], skipped
