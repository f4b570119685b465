"""Proof of origin: which service must have signed an event type, and what its signature covers.

A service signs every event it emits (Ed25519) into two CloudEvents extension attributes,
``ce_driftlinesig`` and ``ce_driftlinekeyid``. Consumers act on an event of a type listed in
``SIGNED_BY`` only when the listed service's key signed it: anyone who can write to a topic can
otherwise make a spec current or approve a model under any actor's name. The crypto lives with
the services (``driftline.runtime.event_signing``); this module is what a signature means, so
a consumer outside the platform can check one with any Ed25519 library.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from typing import Final

from driftline_contracts.envelope import HEADER_PREFIX
from driftline_contracts.events import (
    CanaryRolledBack,
    DataRejected,
    DataValidated,
    DriftDetected,
    DriftResolved,
    ModelApproved,
    ModelPromoted,
    ModelRejected,
    ModelSpecApplied,
    ModelTrained,
)

SIGNATURE_ATTRIBUTE: Final = "driftlinesig"
KEY_ID_ATTRIBUTE: Final = "driftlinekeyid"
SIGNATURE_HEADER: Final = HEADER_PREFIX + SIGNATURE_ATTRIBUTE
KEY_ID_HEADER: Final = HEADER_PREFIX + KEY_ID_ATTRIBUTE
SIGNED_ATTRIBUTES: Final = (
    "id", "type", "source", "subject", "time", "actor", "correlationid", "causationid"
)  # fmt: skip
"""Envelope attributes a signature covers (with the payload's sha256)."""
DOMAIN: Final = "driftline-event-signature/v1"

SIGNED_BY: Final[Mapping[str, str]] = {
    ModelSpecApplied.ce_type: "registry",
    ModelApproved.ce_type: "registry",
    ModelRejected.ce_type: "registry",
    ModelTrained.ce_type: "training",
    ModelPromoted.ce_type: "deployment",
    CanaryRolledBack.ce_type: "deployment",
    DataValidated.ce_type: "validation",
    DataRejected.ce_type: "validation",
    DriftDetected.ce_type: "monitoring",
    DriftResolved.ce_type: "monitoring",
}
"""Event types that change what the platform trains, serves or trusts, by the one service whose
signature a consumer requires: a DataValidated names the data training trains on and monitoring
takes as reference, a DataRejected sets an upload's verdict, a DriftDetected starts a retrain and
a DriftResolved closes the episode the recovery figures count. Other types are signed when their
producer has a key, and acted on either way (pipelines publish DataArrived, which validation
then checks, and BatchScoringRequested themselves)."""


def _header_values(headers: Iterable[tuple[str, bytes | None]]) -> dict[str, bytes | None]:
    return {name.lower(): value for name, value in headers}


def signed_content(headers: Iterable[tuple[str, bytes | None]], value: bytes) -> bytes:
    """The bytes a signature is over: a domain tag, then a JSON array of the ``ce_*`` header
    values of ``SIGNED_ATTRIBUTES`` exactly as sent (null when absent) and the payload's
    sha256 (hex). Header values are read as Latin-1, so every byte string maps to one text."""
    found = _header_values(headers)
    attributes = []
    for name in SIGNED_ATTRIBUTES:
        raw = found.get(HEADER_PREFIX + name)
        attributes.append(None if raw is None else bytes(raw).decode("latin-1"))
    document = [DOMAIN, *attributes, hashlib.sha256(value).hexdigest()]
    return json.dumps(document, separators=(",", ":"), ensure_ascii=True).encode()


def signature_headers(headers: Iterable[tuple[str, bytes | None]]) -> tuple[str | None, str | None]:
    """The record's signature and key id as text (None where a header is missing)."""
    found = _header_values(headers)
    sig, kid = found.get(SIGNATURE_HEADER), found.get(KEY_ID_HEADER)
    return (
        None if sig is None else sig.decode("latin-1"),
        None if kid is None else kid.decode("latin-1"),
    )
