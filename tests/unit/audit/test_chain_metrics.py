"""The last chain verification shows on ``/metrics`` (the AuditChainBroken alert reads it)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry

from driftline.audit.chain_metrics import chain_gauges
from driftline.audit.integrity import Finding
from driftline.audit.verify import VerifyReport


def report(*findings: Finding) -> VerifyReport:
    return VerifyReport(
        entries=12, head_seq=12, problem=None, digests=2, signed_seq=10,
        findings=findings, checked_against=("PostgreSQL", "s3"),
    )  # fmt: skip


def test_a_broken_chain_turns_the_gauge_to_zero_and_a_sound_one_back() -> None:
    registry = CollectorRegistry()
    gauges = chain_gauges(registry)
    gauges.record(report(), now=1000.0)
    assert registry.get_sample_value("driftline_audit_chain_ok") == 1
    assert registry.get_sample_value("driftline_audit_chain_verified_timestamp_seconds") == 1000
    assert registry.get_sample_value("driftline_audit_chain_head_seq") == 12
    assert registry.get_sample_value("driftline_audit_chain_signed_seq") == 10
    chain_gauges(registry).record(report(Finding("rewritten", 7, 1, "row 7 changed")), now=2000.0)
    assert registry.get_sample_value("driftline_audit_chain_ok") == 0
    assert registry.get_sample_value("driftline_audit_chain_verified_timestamp_seconds") == 2000


def test_gauges_are_registered_once_per_registry() -> None:
    registry = CollectorRegistry()
    assert chain_gauges(registry) is chain_gauges(registry)
    assert chain_gauges(CollectorRegistry()) is not chain_gauges(registry)
    assert registry.get_sample_value("driftline_audit_chain_ok") == 0  # never verified yet
