"""The predict suite judges issue 16's aims per logging configuration from one run's medians."""

from __future__ import annotations

from bench.predict_aims import AIMS, aims_table
from bench.predict_load import Load


def _loads(rate: float, p99: float) -> list[Load]:
    """Three rounds whose median is ``rate`` req/s at ``p99`` ms."""
    return [Load(int(rate * f * 10), 10.0, 1.0, p99) for f in (0.5, 1.0, 2.0)]


FOUND = {
    "floor": {1: _loads(1000, 20), 100: _loads(400, 40)},
    "ml-tuned": {1: _loads(700, 30), 100: _loads(300, 50)},
    "ml-batching": {1: _loads(900, 90), 100: _loads(250, 60)},
    "fast": {1: _loads(950, 25), 100: _loads(320, 45)},
    "slow": {1: _loads(400, 35), 100: _loads(100, 80)},
}


def test_each_aim_is_judged_per_configuration() -> None:
    lines = aims_table(FOUND, ["fast", "slow"], "floor", ["ml-tuned", "ml-batching"], "ml-tuned")
    assert lines[0] == "| aim (log on) | fast | slow |"
    rows = {line.split(" | ")[0].lstrip("| "): line for line in lines[2:]}
    assert list(rows) == list(AIMS)
    assert "| 95% (met) | 40% (**not met**) |" in rows["1-row: ≥ 90% of the Starlette floor"]
    assert "25.0 vs 30.0 ms (met) | 35.0 vs 30.0 ms (**not met**)" in rows[AIMS[1]]
    assert "| 80% (met) | 25% (**not met**) |" in rows[AIMS[2]]
    assert "| 1.07x (met) | 0.33x (**not met**) |" in rows[AIMS[3]]


def test_the_bounds_are_the_issues() -> None:
    exact = {
        "floor": FOUND["floor"],
        "ml-tuned": {1: _loads(700, 30), 100: _loads(280, 50)},
        "edge": {1: _loads(900, 30), 100: _loads(280, 50)},
    }
    lines = aims_table(exact, ["edge"], "floor", ["ml-tuned"], "ml-tuned")
    assert [line.endswith("(met) |") for line in lines[2:]] == [True, False, True, False]
