"""The last chain verification on ``/metrics``: whether it held, when, and how far it reached."""

from __future__ import annotations

import time
from dataclasses import dataclass
from weakref import WeakKeyDictionary

from prometheus_client import CollectorRegistry, Gauge

from driftline.audit.verify import VerifyReport

_BY_REGISTRY: WeakKeyDictionary[CollectorRegistry, ChainGauges] = WeakKeyDictionary()


@dataclass(frozen=True)
class ChainGauges:
    """``driftline_audit_chain_ok``, ``…_verified_timestamp_seconds``, ``…_head_seq`` and
    ``…_signed_seq`` of one service process."""

    ok: Gauge
    verified_at: Gauge
    head_seq: Gauge
    signed_seq: Gauge

    def record(self, report: VerifyReport, now: float | None = None) -> None:
        """Note one verification's outcome."""
        self.ok.set(1 if report.ok else 0)
        self.verified_at.set(time.time() if now is None else now)
        self.head_seq.set(report.head_seq)
        self.signed_seq.set(report.signed_seq)


def chain_gauges(registry: CollectorRegistry) -> ChainGauges:
    """The gauges registered in ``registry`` (registered on first use, once per registry)."""
    found = _BY_REGISTRY.get(registry)
    if found is None:
        found = ChainGauges(
            ok=Gauge(
                "driftline_audit_chain_ok",
                "1 when the last verification found the chain, its digests and their copies "
                "intact, 0 when it found a problem.",
                registry=registry,
            ),
            verified_at=Gauge(
                "driftline_audit_chain_verified_timestamp_seconds",
                "When the chain was last verified (Unix time).",
                registry=registry,
            ),
            head_seq=Gauge(
                "driftline_audit_chain_head_seq",
                "Chain position of the newest audited event at the last verification.",
                registry=registry,
            ),
            signed_seq=Gauge(
                "driftline_audit_chain_signed_seq",
                "Chain position the newest signed digest covers at the last verification.",
                registry=registry,
            ),
        )
        _BY_REGISTRY[registry] = found
    return found
