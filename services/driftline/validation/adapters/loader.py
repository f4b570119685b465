"""Fetching a dataset object from the store and reading it within the configured limits."""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

from driftline.runtime.storage import ArtifactStore, IntegrityError, ObjectNotFound, UriNotAllowed
from driftline.validation.adapters.limits import Limits, Unloadable
from driftline.validation.adapters.parsing import read_file
from driftline.validation.core import LoadOutcome
from driftline_contracts.values import DatasetRef, Reason


def _failed(code: str, message: str, *, about_bytes: bool = True) -> LoadOutcome:
    return LoadOutcome(
        frame=None, failure=Reason(code=code, message=message[:2000]), about_bytes=about_bytes
    )


async def load_dataset(
    store: ArtifactStore, dataset: DatasetRef, limits: Limits, *, workdir: Path | None = None
) -> LoadOutcome:
    """The object as a frame, or the typed reason it is refused; outages still raise."""
    try:
        info = await store.stat(dataset.uri)
        if info.size_bytes > limits.max_bytes:
            return _failed(
                "too_large", f"{info.size_bytes} bytes, at most {limits.max_bytes} allowed"
            )
        if info.size_bytes == 0:
            return _failed("empty_file", "the object has no bytes")
        with tempfile.TemporaryDirectory(prefix="driftline-validation-", dir=workdir) as tmp:
            path = await store.download(dataset.uri, Path(tmp) / "data", sha256=dataset.sha256)
            parsed = await asyncio.to_thread(read_file, path, dataset.format, limits)
    except UriNotAllowed as exc:
        return _failed("uri_not_allowed", str(exc), about_bytes=False)
    except ObjectNotFound as exc:
        return _failed("object_missing", str(exc), about_bytes=False)
    except IntegrityError as exc:
        return _failed("sha256_mismatch", str(exc), about_bytes=False)
    except Unloadable as exc:
        return _failed(exc.code, exc.message)
    return LoadOutcome(frame=parsed.frame, dialect=parsed.dialect)
