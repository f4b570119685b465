"""The benchmark runner keeps working (timings are reported, never asserted).

The registry and training suites start servers and an MLflow venv, so only their pure parts
are exercised here; ``python -m bench.run --suite registry --quick`` smoke-runs them for real.
"""

from __future__ import annotations

import pandas as pd

from bench import driftline_side, mlflow_peer, registry_ops, run, tables, training_overhead
from driftline_contracts.codec import decode
from driftline_contracts.events.deployment import ModelPromoted
from driftline_contracts.events.training import ModelTrained


def test_quick_run_produces_a_table_per_benchmark_with_peers() -> None:
    text = run.page(run.run(quick=True, suites=["codec", "validation"]))
    assert text.count("### codec:") == 2
    assert "cloudevents SDK from_binary" in text
    assert "driftline_contracts.decode" in text
    assert "<!-- suite:validation -->" in text


OLD_PAGE = """# Benchmarks

- run: 2026-11-23 13:39 UTC, Python 3.11.7, x86_64, 2 cores

## Results

### codec: decode

| a | 1 |

### validation: validate

| b | 2 |
"""


def test_refreshing_one_suite_replaces_only_its_section() -> None:
    first = run.page({"registry": ["## registry", "", "old registry figures"]}, OLD_PAGE)
    kept = run.sections(first)
    assert list(kept) == ["codec", "validation", "registry"]
    assert "_run: 2026-11-23 13:39 UTC" in kept["codec"]
    assert "| a | 1 |" in kept["codec"]
    assert "| b | 2 |" in kept["validation"]

    second = run.page({"registry": ["## registry", "", "new registry figures"]}, first)
    assert "new registry figures" in second
    assert "old registry figures" not in second
    assert run.sections(second)["codec"] == kept["codec"]
    assert run.page({}, second) == second


def test_rate_table_compares_medians_with_the_baseline() -> None:
    rates = {"Driftline": [90.0, 100.0, 200.0], "MLflow": [10.0, 20.0, 30.0]}
    lines = tables.rate_table("### t", rates, "MLflow")
    assert "| Driftline | 100 | 90 to 200 | 10.00 | 5.00x |" in lines
    assert "| MLflow | 20 | 10 to 30 | 50.00 | 1.00x |" in lines


def test_the_verdict_compares_writes_with_mlflows_best_and_reads_per_concurrency() -> None:
    one, backlog = registry_ops.ONE_AT_A_TIME, registry_ops.BACKLOG
    found = {
        "register": {
            one: [30.0], backlog: [60.0], "MLflow (1 conn)": [10.0], "MLflow (16 conn)": [8.0],
        },
        "set_alias": {
            one: [20.0], backlog: [49.0], "MLflow (1 conn)": [7.0], "MLflow (16 conn)": [10.0],
        },
        "read_alias": {
            "Driftline (1 conn)": [50.0], "Driftline (16 conn)": [90.0],
            "MLflow (1 conn)": [10.0], "MLflow (16 conn)": [20.0],
        },
    }  # fmt: skip
    lines = registry_ops.verdict(found)
    assert (
        "- register: one at a time vs MLflow (1 conn): 3.0x, "
        "backlog vs MLflow (1 conn): 6.0x — aim met."
    ) in lines
    assert (
        "- set alias: one at a time vs MLflow (16 conn): 2.0x, "
        "backlog vs MLflow (16 conn): 4.9x — aim not met."
    ) in lines
    assert "- read alias: 1 conn: 5.0x, 16 conn: 4.5x — aim not met." in lines


def test_benchmark_events_decode_like_records_off_kafka() -> None:
    record = driftline_side.raw_record(registry_ops.trained_event(7), offset=3)
    envelope, event = decode(record.headers, record.value)
    assert isinstance(event, ModelTrained)
    assert (event.model, event.run_id) == (registry_ops.MODEL, "bench-run-7")
    assert envelope.actor == "user:bench"
    promoted = registry_ops.promoted_event(2, 1)
    assert isinstance(decode(*_wire(promoted))[1], ModelPromoted)


def _wire(event: object) -> tuple[object, bytes]:
    record = driftline_side.raw_record(event, offset=0)
    return record.headers, record.value


def test_overhead_is_total_minus_bare_fit_round_by_round() -> None:
    series = training_overhead.with_overhead({"total": [3.0, 5.0], "fit": [1.0, 1.5]})
    assert series["overhead"] == [2.0, 3.5]
    lines = tables.overhead_table("### t", {"x": series})
    assert "| x | 4.000 | 1.250 | 2.750 | 2 to 3.5 | 2.2x |" in lines
    slower = training_overhead.with_overhead({"total": [7.0], "fit": [1.5]})
    assert training_overhead.comparison("d", series, slower) == (
        "On d, Driftline's overhead (2.75 s) is 2.0x smaller than MLflow's (5.50 s)."
    )
    assert training_overhead.comparison("d", slower, series) == (
        "On d, Driftline's overhead (5.50 s) is 2.0x MLflow's (2.75 s)."
    )


def test_shuffled_rounds_have_new_bytes_and_the_same_rows() -> None:
    frame = training_overhead.synthetic(500)
    other = training_overhead.shuffled(frame, seed=1)
    assert not other.equals(frame)
    pd.testing.assert_frame_equal(
        other.sort_values(list(frame.columns)).reset_index(drop=True),
        frame.sort_values(list(frame.columns)).reset_index(drop=True),
    )
    spec = training_overhead.spec_for(training_overhead.Dataset("s", frame, {"max_iter": 200}))
    assert training_overhead.bare_fit_seconds(frame, spec) > 0


def test_the_mlflow_venv_gets_the_projects_scikit_learn() -> None:
    from importlib.metadata import version

    assert f"scikit-learn=={version('scikit-learn')}" in mlflow_peer.requirements().split()
    assert mlflow_peer.requirements().startswith("mlflow==")
