"""The workers suite's tables and verdict (pure): loads per case in, Markdown lines out.

A ``Case`` is one server configuration (a server, its worker processes, wrk's connections);
a ``Sample`` is one load run of it with the CPU every party spent per request. The ratio of
two workers to one is taken on median throughput over rounds, at 16 connections and at the
two-worker case's best connection count, and judged against the issue's 1.6x aim.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bench.predict_load import Load

AIM_RATIO = 1.6
AIM = f"`--workers 2` ≥ {AIM_RATIO}x one worker's throughput"


@dataclass(frozen=True, order=True)
class Case:
    """One server configuration under load."""

    server: str
    workers: int
    connections: int


@dataclass(frozen=True)
class Sample:
    """One load run: its ``Load`` and CPU seconds per request of each party, machine busy."""

    load: Load
    server_cpu_s: float = 0.0
    """The server's process tree (master and every worker)."""
    db_cpu_s: float = 0.0
    broker_cpu_s: float = 0.0
    wrk_cpu_s: float = 0.0
    busy: float = 0.0
    """Share of all cores busy during the run (every process on the machine)."""

    @property
    def all_cpu_s(self) -> float:
        """CPU seconds per request of the server, PostgreSQL, the broker and wrk together."""
        return self.server_cpu_s + self.db_cpu_s + self.broker_cpu_s + self.wrk_cpu_s


Found = Mapping[Case, Mapping[int, Sequence[Sample]]]


def median(samples: Sequence[Sample], field: str) -> float:
    """Median of ``field`` (a ``Sample`` attribute, or ``rate``/``p50_ms``/``p99_ms``)."""
    if field in ("rate", "p50_ms", "p99_ms"):
        return statistics.median(getattr(s.load, field) for s in samples)
    return statistics.median(getattr(s, field) for s in samples)


def load_table(found: Found, size: int, cores: int) -> list[str]:
    """One batch size: throughput, latency and CPU per request of every case."""
    lines = [
        f"### workers: {size}-row JSON requests",
        "",
        "| server | workers | connections | req/s (median) | req/s (range) | rows/s | p50 ms "
        "| p99 ms | server CPU µs/req (all workers) | PostgreSQL µs/req | broker µs/req "
        f"| wrk µs/req | machine busy | CPU-bound ceiling req/s ({cores} cores) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for case in found:
        samples = found[case][size]
        rate, every = median(samples, "rate"), median(samples, "all_cpu_s")
        rates = [s.load.rate for s in samples]
        ceiling = f"{cores / every:,.0f}" if every > 0 else ""
        lines.append(
            f"| {case.server} | {case.workers} | {case.connections} | {rate:,.0f} "
            f"| {min(rates):,.0f} to {max(rates):,.0f} | {rate * size:,.0f} "
            f"| {median(samples, 'p50_ms'):.2f} | {median(samples, 'p99_ms'):.2f} "
            f"| {median(samples, 'server_cpu_s') * 1e6:,.0f} "
            f"| {median(samples, 'db_cpu_s') * 1e6:,.0f} "
            f"| {median(samples, 'broker_cpu_s') * 1e6:,.0f} "
            f"| {median(samples, 'wrk_cpu_s') * 1e6:,.0f} "
            f"| {median(samples, 'busy'):.0%} | {ceiling} |"
        )
    return [*lines, ""]


@dataclass(frozen=True)
class Ratio:
    """Two workers against one for one server and batch size (median req/s)."""

    server: str
    size: int
    one: float
    two_same: float
    """Two workers at the one-worker case's connections."""
    two_best: float
    best_connections: int
    ceiling: float = 0.0
    """Two workers' CPU-bound ceiling (cores / every party's CPU per request), req/s."""

    @property
    def ratio(self) -> float:
        """The best two-worker throughput over the one-worker throughput."""
        return self.two_best / self.one

    @property
    def met(self) -> bool:
        """Whether the ratio reaches the aim."""
        return self.ratio >= AIM_RATIO


def ratios(found: Found, size: int, cores: int = 2) -> list[Ratio]:
    """Per server (in order of appearance) with one- and two-worker cases, at ``size`` rows."""
    servers = list(dict.fromkeys(case.server for case in found))
    out = []
    for server in servers:
        ones = [c for c in found if c.server == server and c.workers == 1]
        twos = [c for c in found if c.server == server and c.workers == 2]
        if not ones or not twos:
            continue
        one = ones[0]
        rate = {c: median(found[c][size], "rate") for c in twos}
        same = next((c for c in twos if c.connections == one.connections), None)
        best = max(twos, key=lambda c: rate[c])
        every = median(found[best][size], "all_cpu_s")
        out.append(
            Ratio(
                server, size, median(found[one][size], "rate"),
                rate[same] if same is not None else 0.0, rate[best], best.connections,
                cores / every if every > 0 else 0.0,
            )
        )  # fmt: skip
    return out


def ratio_table(
    found: Found, sizes: Sequence[int], one_connections: int, cores: int = 2
) -> list[str]:
    """The 2-worker/1-worker ratio of every server and size, whether it meets the aim, and
    the ratio the CPU allows: two workers' CPU-bound ceiling over one worker's throughput."""
    lines = [
        f"### workers: two workers against one (aim: ≥ {AIM_RATIO}x)",
        "",
        f"| server | rows/request | 1 worker req/s ({one_connections} conn.) "
        f"| 2 workers req/s ({one_connections} conn.) | ratio | 2 workers best req/s "
        "| best ratio | ≥ 1.6x | ratio the CPU allows |",
        "|---|---:|---:|---:|---:|---:|---:|---|---:|",
    ]
    for size in sizes:
        for r in ratios(found, size, cores):
            same = f"{r.two_same / r.one:.2f}x" if r.two_same else ""
            lines.append(
                f"| {r.server} | {size} | {r.one:,.0f} | {r.two_same:,.0f} | {same} "
                f"| {r.two_best:,.0f} ({r.best_connections} conn.) | {r.ratio:.2f}x "
                f"| {'yes' if r.met else '**no**'} | {r.ceiling / r.one:.2f}x |"
            )
    return [*lines, ""]


def verdict_table(
    found: Found, judged: Sequence[str], floor: str, sizes: Sequence[int]
) -> list[str]:
    """The aim's verdict: each judged server's best ratio per size beside ``floor``'s."""
    lines = [
        f"| aim: {AIM} | rows/request | Driftline ratio | floor ratio | share of the floor's "
        "ratio | met |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for size in sizes:
        by_server = {r.server: r for r in ratios(found, size)}
        peer = by_server[floor]
        for server in judged:
            mine = by_server[server]
            lines.append(
                f"| {server} | {size} | {mine.ratio:.2f}x | {peer.ratio:.2f}x "
                f"| {mine.ratio / peer.ratio:.0%} | {'yes' if mine.met else '**no**'} |"
            )
    return [*lines, ""]


@dataclass(frozen=True)
class Idle:
    """The background with every server up and no load: machine busy, cores per party."""

    busy: float
    cores: Mapping[str, float]


def idle_line(idle: Idle, cores: int) -> str:
    """One sentence: what the machine spends with no load, per party."""
    parties = ", ".join(f"{name} {used:.2f}" for name, used in idle.cores.items())
    return (
        f"Background with every server up and no load (5 s): {idle.busy:.0%} of the {cores} "
        f"cores busy; cores used by {parties}."
    )


def busy_share(before: Any, after: Any) -> float:
    """Share of all cores not idle between two ``psutil.cpu_times()``."""
    guest = ("guest", "guest_nice")  # already counted in user time
    total = sum(getattr(after, f) - getattr(before, f) for f in after._fields if f not in guest)
    idle = (after.idle + after.iowait) - (before.idle + before.iowait)
    return 1 - idle / total if total > 0 else 0.0


def predict_share(found: Found, case: Case, size: int, predict_s: float) -> float:
    """In-process predict time over the server's CPU per request: how much predict dominates."""
    return predict_s / median(found[case][size], "server_cpu_s")
