"""Retention of the prediction log's objects in the store: the Parquet objects the compactor
writes (``prediction-log/…``, ``LOG_SINK=kafka``) and the JSON-lines batches the sender
writes for batches too big to go inline (``predictions/<model>/v<version>/<batch>.jsonl``),
once last written more than ``LOG_OBJECT_RETENTION_DAYS`` ago.

Only keys of exactly those two shapes are deleted: batch scoring's outputs
(``predictions/<model>/batch/…``) and anything else under the prefixes stay. Every replica
runs the job hourly; two deleting the same object is harmless. Training's labelled
production rows refer to these objects by reference, so the retention should outlast
training's ``PRODUCTION_RETENTION_DAYS`` (the default does).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from driftline.deployment.prediction_log.columnar import PREFIX as PARQUET_PREFIX
from driftline.runtime.logging import get_logger
from driftline.runtime.storage import ArtifactStore

PRUNE_EVERY_S = 3600.0
"""Rest between passes."""
BATCH_PREFIX = "predictions"
LOG_OBJECT = re.compile(
    rf"{PARQUET_PREFIX}/model=[^/]+/version=\d+/date=\d{{4}}-\d{{2}}-\d{{2}}/[^/]+\.parquet"
    rf"|{BATCH_PREFIX}/[^/]+/v\d+/[^/]+\.jsonl"
)
"""The keys the log writes; nothing else is ever deleted."""
log = get_logger(__name__)


def log_objects(keys: list[str]) -> list[str]:
    """The keys among ``keys`` that are prediction log objects."""
    return [key for key in keys if LOG_OBJECT.fullmatch(key)]


@dataclass(frozen=True)
class ObjectRetention:
    """One pass deletes the log objects last written before now minus ``retention``."""

    store: ArtifactStore
    retention: timedelta
    now: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))

    async def step(self) -> bool:
        """A whole pass (a ``BackgroundJob`` step that then rests ``PRUNE_EVERY_S``)."""
        cutoff = self.now() - self.retention
        for prefix in (PARQUET_PREFIX, BATCH_PREFIX):
            expired = log_objects(await self.store.keys_older_than(prefix, cutoff))
            if expired:
                await self.store.delete_keys(expired)
                log.info("prediction log objects deleted", prefix=prefix, objects=len(expired),
                         written_before=cutoff.isoformat())  # fmt: skip
        return False
