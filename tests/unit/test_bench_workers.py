"""The workers suite's pure parts: medians over rounds, the 2-worker/1-worker ratio at the best
connection count, the verdict against 1.6x, and the machine-busy share."""

from __future__ import annotations

from collections import namedtuple

import pytest

from bench.predict_load import Load
from bench.predict_workers_table import (
    Case,
    Idle,
    Sample,
    busy_share,
    idle_line,
    load_table,
    predict_share,
    ratio_table,
    ratios,
    verdict_table,
)
from bench.prereqs import REQUIREMENTS
from bench.run import SUITES

FLOOR, LOG = "floor", "Driftline (log on)"


def samples(*rates: float, cpu_s: float = 0.002) -> dict[int, list[Sample]]:
    """One sample per round at every size, ``rates`` in req/s."""
    runs = [
        Sample(Load(round(r * 10), 10.0, 1.0, 5.0), server_cpu_s=cpu_s, db_cpu_s=0.0005,
               wrk_cpu_s=0.0005, busy=0.9)
        for r in rates
    ]  # fmt: skip
    return {1: runs, 100: runs}


def found(floor: tuple[float, float, float], log: tuple[float, float, float]) -> dict:
    """Floor and Driftline: one worker at 16 connections, two at 16 and 32 (median rates)."""
    out = {}
    for server, (one, two16, two32) in ((FLOOR, floor), (LOG, log)):
        out[Case(server, 1, 16)] = samples(one - 50, one, one + 500)  # median is ``one``
        out[Case(server, 2, 16)] = samples(two16)
        out[Case(server, 2, 32)] = samples(two32)
    return out


def test_the_ratio_takes_medians_and_the_two_worker_cases_best_connection_count() -> None:
    floor, log = ratios(found((100, 150, 180), (100, 140, 120)), 100)
    assert (floor.one, floor.two_best, floor.best_connections) == (100, 180, 32)
    assert floor.ratio == pytest.approx(1.8)
    assert floor.met
    assert (log.two_same, log.two_best, log.best_connections) == (140, 140, 16)
    assert not log.met  # 1.4x is under the aim


def test_a_ratio_of_exactly_one_point_six_meets_the_aim() -> None:
    (_, log) = ratios(found((100, 200, 200), (250, 400, 300)), 1)
    assert log.ratio == pytest.approx(1.6)
    assert log.met


def test_the_verdict_row_shows_driftlines_ratio_beside_the_floors() -> None:
    lines = verdict_table(found((100, 180, 150), (100, 150, 120)), [LOG], FLOOR, [100])
    assert lines[2] == "| Driftline (log on) | 100 | 1.50x | 1.80x | 83% | **no** |"


def test_the_ratio_table_marks_each_server_and_size() -> None:
    lines = ratio_table(found((100, 180, 150), (100, 170, 120)), [1, 100], 16)
    rows = [ln for ln in lines if ln.startswith("| floor") or ln.startswith("| Driftline")]
    assert len(rows) == 4
    assert rows[1] == (
        "| Driftline (log on) | 1 | 100 | 170 | 1.70x | 170 (16 conn.) | 1.70x | yes | 6.67x |"
    )


def test_the_ceiling_is_the_cores_over_every_partys_cpu_per_request() -> None:
    data = found((100, 180, 150), (100, 170, 120))
    data[Case(LOG, 2, 16)] = samples(170, cpu_s=0.009)  # 10 ms per request in all
    (_, log) = ratios(data, 1, cores=2)
    assert log.ceiling == pytest.approx(200)
    assert log.ceiling / log.one == pytest.approx(2.0)


def test_the_load_table_shows_medians_and_the_cpu_bound_ceiling() -> None:
    lines = load_table(found((100, 180, 150), (100, 170, 120)), 100, cores=2)
    one_worker = next(ln for ln in lines if ln.startswith("| floor | 1 | 16 |"))
    cells = [c.strip() for c in one_worker.strip("|").split("|")]
    assert cells[3:6] == ["100", "50 to 600", "10,000"]
    assert cells[8] == "2,000"  # server CPU µs per request
    assert cells[-2:] == ["90%", "667"]  # 2 cores / 3 ms of CPU per request


def test_predict_share_is_predict_time_over_server_cpu() -> None:
    data = found((100, 180, 150), (100, 170, 120))
    assert predict_share(data, Case(LOG, 1, 16), 100, 0.0015) == pytest.approx(0.75)


Times = namedtuple("Times", "user nice system idle iowait guest guest_nice")


def test_busy_share_counts_iowait_as_idle_and_guest_time_once() -> None:
    before = Times(10, 0, 5, 100, 5, 0, 0)
    after = Times(16, 0, 7, 110, 7, 4, 0)  # guest time is already inside user time
    assert busy_share(before, after) == pytest.approx(8 / 20)
    assert busy_share(before, before) == 0.0


def test_idle_line_names_every_party() -> None:
    line = idle_line(Idle(0.25, {"PostgreSQL": 0.01, "broker": 0.2}), 2)
    assert "25% of the 2 cores busy" in line
    assert "PostgreSQL 0.01, broker 0.20" in line


def test_the_suite_is_registered_with_its_prerequisites() -> None:
    assert "workers" in SUITES
    needs = " ".join(r.what for r in REQUIREMENTS["workers"])
    assert "wrk" in needs
    assert "sklearn" in needs
