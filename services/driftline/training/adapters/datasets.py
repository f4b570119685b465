"""Dataset files for a training process: downloaded to a local folder, sha256 verified."""

from __future__ import annotations

from pathlib import Path

from driftline.runtime.storage import ArtifactStore
from driftline_contracts.values import DatasetRef


def local_name(dataset: DatasetRef) -> str:
    """File name the training process reads (its suffix tells gzip apart)."""
    return "data.csv.gz" if dataset.uri.endswith(".gz") else f"data.{dataset.format}"


async def fetch_dataset(store: ArtifactStore, dataset: DatasetRef, folder: Path) -> Path:
    """Download ``dataset`` into ``folder``; the store raises ``IntegrityError`` on other bytes."""
    path = folder / local_name(dataset)
    await store.download(dataset.uri, path, sha256=dataset.sha256)
    return path
