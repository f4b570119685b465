"""A model version's input signature, read from ``signature.json`` beside its artifact.

Training writes the signature next to ``model.skops`` (``models/{model}/{run}/``); a version
with none (uploaded by hand, or trained before signatures existed) is served unchecked.
"""

from __future__ import annotations

from pydantic import ValidationError

from driftline.runtime.logging import get_logger
from driftline.runtime.storage import ArtifactStore, ObjectNotFound
from driftline_contracts.signature import InputSignature
from driftline_contracts.values import ArtifactRef

log = get_logger(__name__)
MODEL_FILE, SIGNATURE_FILE = "model.skops", "signature.json"


def signature_uri(artifact: ArtifactRef) -> str | None:
    """Where the run that produced ``artifact`` wrote its signature (None: not a run's)."""
    if not artifact.uri.endswith("/" + MODEL_FILE):
        return None
    return artifact.uri.removesuffix(MODEL_FILE) + SIGNATURE_FILE


async def fetch_signature(store: ArtifactStore, artifact: ArtifactRef) -> InputSignature | None:
    """The signature of the version at ``artifact``, or None when it has none."""
    uri = signature_uri(artifact)
    if uri is None:
        return None
    try:
        return InputSignature.model_validate_json(await store.get_bytes(uri))
    except ObjectNotFound:
        return None
    except ValidationError as exc:
        log.warning("model signature unreadable; rows served unchecked", uri=uri, error=str(exc))
        return None
