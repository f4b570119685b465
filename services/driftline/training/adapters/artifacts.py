"""Model artifacts in the object store, and loading a model back safely (never pickle)."""

from __future__ import annotations

import hashlib
from typing import Any

from driftline.runtime.storage import ArtifactStore
from driftline.training.run_io import RunOutput
from driftline_contracts.values import ArtifactRef

SKOPS_MEDIA_TYPE = "application/vnd.skops"


class UntrustedModelError(Exception):
    """A model artifact whose bytes do not match its sha256 or that holds untrusted types."""


def model_key(model: str, run_id: str, name: str) -> str:
    """Object key of one artifact of a run: ``models/{model}/{run_id}/{name}``."""
    return f"models/{model}/{run_id.replace('/', '_')}/{name}"


async def store_run_artifacts(
    store: ArtifactStore, model: str, run_id: str, output: RunOutput
) -> dict[str, ArtifactRef]:
    """Put the model and its JSON documents; their references by file name."""
    from driftline.runtime.native_models import MEDIA_TYPE as NATIVE_MEDIA_TYPE  # numpy, pandas:
    from driftline.runtime.native_models import is_native_archive  # on first use, not start-up
    from driftline.runtime.onnx_models import MEDIA_TYPE as ONNX_MEDIA_TYPE

    refs: dict[str, ArtifactRef] = {}
    model_type = NATIVE_MEDIA_TYPE if is_native_archive(output.model_bytes) else SKOPS_MEDIA_TYPE
    files = [("model.skops", output.model_bytes, model_type)]  # the name predates native archives
    files += [(name, data, ONNX_MEDIA_TYPE if name.endswith(".onnx") else "application/json")
              for name, data in output.documents.items()]  # fmt: skip
    for name, data, media_type in files:
        key = model_key(model, run_id, name)
        stored = await store.put_bytes(key, data, content_type=media_type)
        refs[name] = ArtifactRef(
            uri=stored.uri,
            sha256=stored.sha256,
            media_type=media_type,
            size_bytes=stored.size_bytes,
        )
    return refs


def loads_verified(data: bytes, sha256: str) -> Any:
    """Deserialize model bytes after checking their hash, with the shared safe loader (skops
    of trusted types, or a native LightGBM / XGBoost archive)."""
    actual = hashlib.sha256(data).hexdigest()
    if actual != sha256:
        raise UntrustedModelError(f"artifact sha256 {actual} does not match the recorded {sha256}")
    from driftline.runtime.model_loading import UnservableModelError, load_estimator

    try:
        return load_estimator(data)[0]
    except UnservableModelError as exc:
        raise UntrustedModelError(str(exc)) from exc


async def load_model(store: ArtifactStore, artifact: ArtifactRef) -> Any:
    """The estimator stored at ``artifact``, its bytes verified before anything is loaded."""
    data = await store.get_bytes(artifact.uri)
    return loads_verified(data, artifact.sha256)
