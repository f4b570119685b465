"""Dataset files for a training process: downloaded to a local folder, sha256 verified.

Training reads the canonical copy validation wrote when it accepted the version (the frame it
validated, as Parquet), so a ``;``-delimited or BOM-prefixed CSV trains on the columns that
were validated. Versions accepted before canonical copies existed fall back to the upload.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from pydantic import ValidationError

from driftline.runtime.logging import get_logger
from driftline.runtime.storage import ArtifactStore, ObjectNotFound
from driftline_contracts.events.data import CanonicalCopy
from driftline_contracts.values import DatasetRef

log = get_logger(__name__)


def local_name(dataset: DatasetRef) -> str:
    """File name the training process reads (its suffix tells gzip apart)."""
    return "data.csv.gz" if dataset.uri.endswith(".gz") else f"data.{dataset.format}"


async def fetch_dataset(store: ArtifactStore, dataset: DatasetRef, folder: Path) -> Path:
    """The version's data in ``folder``, in ``dataset.format``: from its canonical copy when
    there is one, else the upload; the store raises ``IntegrityError`` on other bytes."""
    copy = await canonical_copy(store, dataset)
    if copy is None:
        path = folder / local_name(dataset)
        await store.download(dataset.uri, path, sha256=dataset.sha256)
        return path
    parquet = folder / "canonical.parquet"
    await store.download(copy.data.uri, parquet, sha256=copy.data.sha256)
    if dataset.format == "parquet":
        return parquet
    # the process reads by the dataset's format: a CSV version is handed over as a plain
    # comma-separated UTF-8 CSV of the validated frame, whatever dialect was uploaded
    path = folder / "data.csv"
    await asyncio.to_thread(_parquet_to_csv, parquet, path)
    parquet.unlink()
    return path


async def fetch_window(
    store: ArtifactStore, versions: list[DatasetRef], folder: Path
) -> list[tuple[str, str]]:
    """Each version of a training window in a folder of its own: (path, format), in order."""
    files: list[tuple[str, str]] = []
    for index, version in enumerate(versions):
        place = folder / f"window-{index}"
        place.mkdir()
        files.append((str(await fetch_dataset(store, version, place)), version.format))
    return files


async def canonical_copy(store: ArtifactStore, dataset: DatasetRef) -> CanonicalCopy | None:
    """The manifest of ``dataset``'s canonical copy, if validation wrote one for these bytes."""
    uri = store.uri_for(CanonicalCopy.key(dataset.name, dataset.sha256, "json"))
    try:
        copy = CanonicalCopy.model_validate_json(await store.get_bytes(uri))
    except ObjectNotFound:
        return None
    except ValidationError as exc:
        log.warning("canonical manifest unreadable; reading the upload", uri=uri, error=str(exc))
        return None
    if copy.source_sha256 != dataset.sha256:
        log.warning("canonical manifest of other bytes; reading the upload", uri=uri)
        return None
    return copy


def _parquet_to_csv(source: Path, dest: Path) -> None:
    import pyarrow.parquet as pq  # on first use: the service's start-up needs none

    pq.read_table(source).to_pandas().to_csv(dest, index=False)
