"""The predict suite's verdicts: issue 16's aims for serving with the prediction log on.

Each aim is judged for every Driftline configuration that logs before answering (the default
PostgreSQL log, the same without waiting for the WAL flush, the Kafka log, and the default log
with micro-batching on), from the medians over rounds of one run, so ratios compare servers
measured side by side.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence

from bench.predict_load import Load

Found = Mapping[str, Mapping[int, Sequence[Load]]]


def rate(found: Found, name: str, size: int) -> float:
    """Median requests per second of ``name`` at ``size`` rows."""
    return statistics.median(x.rate for x in found[name][size])


def p99(found: Found, name: str, size: int) -> float:
    """Median p99 latency (ms) of ``name`` at ``size`` rows."""
    return statistics.median(x.p99_ms for x in found[name][size])


def _cells(found: Found, name: str, floor: str, peers: Sequence[str], tuned: str) -> list[str]:
    """One configuration's column: each aim's measured value and whether it is met."""
    one = rate(found, name, 1) / rate(found, floor, 1)
    hundred = rate(found, name, 100) / rate(found, floor, 100)
    lowest = min(p99(found, n, 1) for n in peers)
    mine = p99(found, name, 1)
    above = rate(found, name, 100) / rate(found, tuned, 100)
    judged = [
        (f"{one:.0%}", one >= 0.9),
        (f"{mine:.1f} vs {lowest:.1f} ms", mine < lowest),
        (f"{hundred:.0%}", hundred >= 0.7),
        (f"{above:.2f}x", above > 1.0),
    ]
    return [f"{value} {'(met)' if ok else '(**not met**)'}" for value, ok in judged]


AIMS = (
    "1-row: ≥ 90% of the Starlette floor",
    "1-row: p99 below MLServer's lowest",
    "100-row: ≥ 70% of the Starlette floor",
    "100-row: above MLServer tuned",
)


def aims_table(
    found: Found, logged: Sequence[str], floor: str, peers: Sequence[str], tuned: str
) -> list[str]:
    """Markdown: one row per aim, one column per logging configuration in ``logged``."""
    columns = [_cells(found, name, floor, peers, tuned) for name in logged]
    lines = [
        "| aim (log on) | " + " | ".join(logged) + " |",
        "|---|" + "---:|" * len(logged),
    ]
    for aim, *cells in zip(AIMS, *columns, strict=True):
        lines.append(f"| {aim} | " + " | ".join(cells) + " |")
    return lines
