"""The benchmark runner keeps working (timings are reported, never asserted)."""

from __future__ import annotations

from bench import run


def test_quick_run_produces_a_table_per_benchmark_with_peers() -> None:
    text = run.page(run.run(quick=True))
    assert text.count("### codec:") == 2
    assert "cloudevents SDK from_binary" in text
    assert "driftline_contracts.decode" in text
