"""``read_predictions``: a model's logged predictions as one pandas frame, in one call.

Reads the Kafka prediction log's Parquet objects (``LOG_SINK=kafka``) straight from the object
store the services use (``client.store.stack_store``); pandas and pyarrow load on first use.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    import pandas as pd

    from driftline.runtime.storage import ArtifactStore

T = TypeVar("T")


def span(
    day: date | str | None, start: datetime | None, end: datetime | None
) -> tuple[datetime, datetime]:
    """``[start, end)`` in UTC: a whole day, or the given instants (naive ones read as UTC;
    ``end`` defaults to now)."""
    if day is not None:
        if start is not None or end is not None:
            raise ValueError("give a day, or start (and end), not both")
        first = datetime.combine(date.fromisoformat(str(day)), time(), tzinfo=UTC)
        return first, first + timedelta(days=1)
    if start is None:
        raise ValueError("give a day, or a start")
    utc = [t if t.tzinfo else t.replace(tzinfo=UTC) for t in (start, end or datetime.now(UTC))]
    return utc[0], utc[1]


def read_predictions(
    model: str,
    day: date | str | None = None,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    version: int | None = None,
    store: ArtifactStore | None = None,
) -> pd.DataFrame:
    """Every row ``model`` served on ``day`` (or in ``[start, end)``), oldest first: request
    id, time, version, variant, prediction, score, latency, then ``features.<name>`` columns."""
    from driftline.client.store import stack_store
    from driftline.runtime.prediction_log_reader import read_predictions as read

    first, last = span(day, start, end)
    found = store if store is not None else stack_store()
    return _run(read(found, model, first, last, version=version))


def _run(work: Coroutine[Any, Any, T]) -> T:
    """Run ``work`` to completion, also from a notebook whose event loop is running."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(work)
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, work).result()
