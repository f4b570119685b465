"""The canonical copy: an accepted frame written once as Parquet, with a manifest beside it.

Training reads this copy instead of parsing the upload again, so both see the same columns
and types (a ``;``-delimited CSV is read once, here). The manifest at a key derived from the
upload's sha256 lets a reader that only holds the ``DatasetRef`` find the copy.
"""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from driftline.runtime.logging import get_logger
from driftline.runtime.storage import ArtifactStore
from driftline.validation.adapters.artifacts import JSON, artifact_ref
from driftline_contracts.events.data import CanonicalCopy, SourceDialect
from driftline_contracts.values import DatasetRef, Reason

PARQUET = "application/vnd.apache.parquet"
log = get_logger(__name__)


class NotWritable(Exception):  # noqa: N818 - a domain outcome, not a programming error
    """The frame cannot be written as Parquet."""


def write_parquet(frame: pd.DataFrame, path: Path) -> None:
    """``frame`` as a Parquet file; mixed-type text columns are written as strings."""
    try:
        table = pa.Table.from_pandas(frame, preserve_index=False)
    except (pa.ArrowException, TypeError, ValueError):
        # an object column mixing e.g. numbers and text: keep it, as the text it was read from
        table = pa.Table.from_pandas(_mixed_as_text(frame), preserve_index=False)
    try:
        pq.write_table(table, path)
    except (pa.ArrowException, OSError) as exc:
        raise NotWritable(str(exc)) from exc


def _mixed_as_text(frame: pd.DataFrame) -> pd.DataFrame:
    text = frame.copy()
    for position, dtype in enumerate(frame.dtypes):
        if pd.api.types.is_object_dtype(dtype):
            column = frame.iloc[:, position]
            text.isetitem(position, column.where(column.isna(), column.astype(str)))
    return text


async def store_canonical(
    store: ArtifactStore,
    dataset: DatasetRef,
    frame: pd.DataFrame,
    dialect: SourceDialect,
    *,
    workdir: Path | None = None,
) -> tuple[CanonicalCopy | None, Reason | None]:
    """Write the copy and its manifest; a warning instead when the frame will not convert."""
    name, sha = dataset.name, dataset.sha256
    with tempfile.TemporaryDirectory(prefix="driftline-canonical-", dir=workdir) as tmp:
        path = Path(tmp) / "data.parquet"
        try:
            await asyncio.to_thread(write_parquet, frame, path)
        except (NotWritable, pa.ArrowException, TypeError, ValueError) as exc:
            log.warning("canonical copy not written", dataset=name, error=str(exc)[:300])
            message = f"no canonical Parquet copy, training re-reads the upload: {str(exc)[:300]}"
            return None, Reason(code="canonical_copy_failed", message=message)
        stored = await store.put_file(
            CanonicalCopy.key(name, sha, "parquet"), path, content_type=PARQUET
        )
    copy = CanonicalCopy(data=artifact_ref(stored, PARQUET), source_sha256=sha, parsed_as=dialect)
    manifest = copy.model_dump_json().encode()
    await store.put_bytes(CanonicalCopy.key(name, sha, "json"), manifest, content_type=JSON)
    return copy, None
