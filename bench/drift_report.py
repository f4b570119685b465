"""Markdown for the drift benchmark: timings, memory, verdicts, aims, the chi-square gap."""

from __future__ import annotations

from dataclasses import dataclass

from bench.drift_checks import Check
from bench.drift_evidently import flagged
from bench.drift_frames import CATEGORICAL, LEVELS, NUMERIC, SHIFTED

ALPHA = 0.05


METHOD = [
    "Reference and current frames of N rows x 25 columns (`bench/drift_frames.py`, seeded): "
    "20 numbers (normal, lognormal, uniform), 5 string categories of 3 to 12 levels; the "
    "current frame moves x00..x03 by 0.5 sd and c0's mix, the other 20 columns are drawn "
    "like the reference. Every side runs in a fresh process on the same Parquet files with "
    "one BLAS thread. **Driftline**: `profile_frame` on the reference (what validation "
    "stores and monitoring holds: 2000-value KS sample, 20-bin histogram, category counts), "
    "then `evaluate_window` with the default policy (KS + PSI + Wasserstein, chi-square + "
    "Jensen-Shannon, BH, effect floors, share rule, data-quality checks); *window "
    "evaluation* is what monitoring pays per window, *cold* adds the profiling. **Floor**: "
    "`bench/drift_floor.py`, full frames, no summaries: sort, KS from the ECDFs at the "
    "reference's distinct values with scipy's p-value (`kstwo`), PSI on 20 reference bins, "
    "two-sample chi-square; its 'flagged' column is plain p < 0.05. **Evidently** 0.7.23 "
    "(own venv, pandas 2): `Report([DataDriftPreset()])`, and the same preset with "
    "`num_method='ks', cat_method='chisquare'`. **Peak extra memory**: peak RSS growth over "
    "the RSS with the frames loaded (`malloc_trim`, then `/proc/self/clear_refs` resets the "
    "peak), plus `tracemalloc`'s peak for the in-process sides. The run fails unless the "
    "statistics agree to 1e-9 where the methods coincide (tables at the end). Measured "
    "apart (cProfile, 10^6 rows): scipy's `kstwo` p-values at n = 5e5 take ~1 s of the "
    "floor's time for the 16 unshifted columns (~50 ms each); Driftline's KS against the "
    "2000-value sample has n ~ 2000 and its p-value costs ~1 ms.",
    "",
    "**Driftline from the prediction log** (issue 16; `bench/drift_log.py`): the current "
    "frame is first written as the Kafka prediction log's real objects with deployment's own "
    "code: requests of 100 rows encoded as log records (`encode_record`), compacted by "
    "`compact` 20,000 rows per Parquet object (the default `LOG_COMPACT_ROWS`; `features` a "
    "struct column) into a local-files `LocalArtifactStore`. In a fresh process the rows "
    "monitoring buffered by reference (no features, the object in `source`) are rebuilt as "
    "its store's `take` returns them (PostgreSQL, not timed), then monitoring's own path is "
    "timed per window: `window_features` (each object read and sha256-checked, its "
    "`features` struct flattened into columns, the rows taken in window order) → "
    "`window_data` → `evaluate_window` with the profile held. The objects are local files "
    "(in the page cache after the first repeat), so an S3 GET per object is not included.",
    "",
]


@dataclass(frozen=True)
class Measured:
    """Every side's output on one pair of frames of ``rows`` rows."""

    rows: int
    driftline: dict
    floor: dict
    evidently: dict
    evidently_ks: dict
    checks: list[Check]
    log: dict
    """Driftline with the window read from the prediction log (``bench.drift_worker.from_log``)."""


@dataclass(frozen=True)
class Row:
    """One implementation: seconds per size, peak extra memory at the largest, verdicts."""

    name: str
    seconds: list[float]
    rss_mib: float
    traced_mib: float | None
    flagged: set[str]


def _rows(found: list[Measured]) -> list[Row]:
    last = found[-1]
    drifted = {f["feature"] for f in last.driftline["features"] if f["drifted"]}
    floor_flags = {n for n, c in last.floor["columns"].items() if c["p_value"] < ALPHA}
    d = last.driftline
    return [
        Row("Driftline: window evaluation (profile held, as monitoring runs)",
            [_best(m.driftline["evaluate_s"]) for m in found],
            d["evaluate_rss_mib"], d["evaluate_traced_mib"], drifted),
        Row("Driftline: profile the reference + window evaluation (cold)",
            [_best(m.driftline["cold_s"]) for m in found], d["rss_mib"], d["traced_mib"],
            drifted),
        Row(f"Driftline: window read from the prediction log ({_objects(last.log['objects'])}) "
            "+ window evaluation",
            [_best(m.log["window_s"]) for m in found], last.log["rss_mib"],
            last.log["traced_mib"], {f["feature"] for f in last.log["features"] if f["drifted"]}),
        Row("floor: numpy/scipy KS + chi-square + PSI on full frames (p < 0.05)",
            [_best(m.floor["cold_s"]) for m in found], last.floor["rss_mib"],
            last.floor["traced_mib"], floor_flags),
        Row("Evidently 0.7.23 DataDriftPreset (default methods)",
            [m.evidently["seconds"] for m in found], last.evidently["rss_mib"], None,
            flagged(last.evidently["columns"])),
        Row("Evidently forced to KS / chi-square",
            [m.evidently_ks["seconds"] for m in found], last.evidently_ks["rss_mib"], None,
            flagged(last.evidently_ks["columns"])),
    ]  # fmt: skip


def _objects(count: int) -> str:
    return f"{count} Parquet object" + ("" if count == 1 else "s")


def _best(values: list[float]) -> float:
    return min(values)  # a shared machine only ever adds time


def report_lines(
    found: list[Measured], rates: dict[str, float], load: tuple[tuple[float, ...], ...] = ()
) -> list[str]:
    """The section's tables and the verdict on each aim, at the largest size."""
    rows = _rows(found)
    sizes = [m.rows for m in found]
    evidently, floor = rows[4].seconds[-1], rows[3].seconds[-1]
    largest = f"{sizes[-1]:,}"
    lines = [
        *METHOD,
        f"### drift: {len(NUMERIC)} numeric + {len(CATEGORICAL)} categorical columns, "
        f"{len(SHIFTED)} shifted ({', '.join(SHIFTED)})",
        "",
        "| implementation | "
        + " | ".join(f"s at {n:,} rows" for n in sizes)
        + " | x faster than Evidently default | vs floor | peak extra MiB (RSS) "
        "| tracemalloc MiB | flagged: shifted / others |",
        "|---|" + "---:|" * (len(sizes) + 4) + "---|",
    ]
    for row in rows:
        seconds = " | ".join(f"{s:.2f}" for s in row.seconds)
        traced = f"{row.traced_mib:.0f}" if row.traced_mib is not None else "—"
        hits = len(row.flagged & set(SHIFTED))
        lines.append(
            f"| {row.name} | {seconds} | {evidently / row.seconds[-1]:.0f}x "
            f"| {row.seconds[-1] / floor:.2f}x | {row.rss_mib:.0f} | {traced} "
            f"| {hits}/{len(SHIFTED)} / {len(row.flagged) - hits} |"
        )
    lines += [
        "",
        f"Seconds: best of {len(found[-1].driftline['cold_s'])} runs for Driftline and the "
        "floor; Evidently best of 2 runs up to 100,000 rows, one run above.",
        *_load(load),
        "",
        *_aims(rows, largest),
        "",
        *_chi_square(found, rates),
        "",
    ]
    return lines


def _aims(rows: list[Row], largest: str) -> list[str]:
    warm, cold, log, floor, evidently = rows[0], rows[1], rows[2], rows[3], rows[4]

    def verdict(ok: bool) -> str:
        return "aim met" if ok else "aim NOT met"

    speed = [evidently.seconds[-1] / r.seconds[-1] for r in (warm, cold)]
    near = [r.seconds[-1] / floor.seconds[-1] for r in (warm, cold)]
    memory = [r.rss_mib / evidently.rss_mib for r in (warm, cold)]
    return [
        f"Aims at {largest} rows (window evaluation / cold):",
        "",
        f"- at least 50x faster than Evidently's default: {speed[0]:.0f}x / {speed[1]:.0f}x — "
        f"{verdict(min(speed) >= 50)}.",
        f"- within 1.5x of the floor: {near[0]:.2f}x / {near[1]:.2f}x — "
        f"{verdict(max(near) <= 1.5)}.",
        f"- peak extra memory under 1/5 of Evidently's default: {memory[0]:.3f} / "
        f"{memory[1]:.3f} of it — {verdict(max(memory) < 0.2)}.",
        "- identical statistics where the methods coincide: see the checks below.",
        f"- drift over the {largest}-row window read from the prediction log within 1.5x of "
        f"the floor (issue 16): {log.seconds[-1] / floor.seconds[-1]:.2f}x — "
        f"{verdict(log.seconds[-1] <= 1.5 * floor.seconds[-1])}.",
    ]


def _load(load: tuple[tuple[float, ...], ...]) -> list[str]:
    """The machine's load average when the suite started and ended (a shared machine)."""
    if not load:
        return []
    shown = [" / ".join(f"{v:.2f}" for v in each) for each in load]
    return [
        "",
        f"Load average (1 / 5 / 15 min) at the start: {shown[0]}; at the end: "
        f"{shown[-1]} (other work on the machine adds time to every side).",
    ]


def _chi_square(found: list[Measured], rates: dict[str, float]) -> list[str]:
    lines = [
        "### drift: chi-square on the unshifted categorical columns",
        "",
        "| rows | column | levels | Evidently chi-square p (goodness of fit) "
        "| two-sample chi-square p (Driftline, floor) |",
        "|---:|---|---:|---:|---:|",
    ]
    for m in found:
        for name, levels in zip(CATEGORICAL, LEVELS, strict=True):
            if name in SHIFTED:
                continue
            theirs = m.evidently_ks["columns"][name]["value"]
            ours = m.floor["columns"][name]["p_value"]
            lines.append(f"| {m.rows:,} | {name} | {levels} | {theirs:.3g} | {ours:.3g} |")
    lines += [
        "",
        f"Over many unshifted columns ({found[-1].rows:,} rows each side, multinomial counts, "
        f"3 to 12 levels) Evidently's goodness-of-fit flags "
        f"{rates['goodness_of_fit']:.0%} at p < 0.05, the two-sample test "
        f"{rates['two_sample']:.0%} (nominal 5%).",
    ]
    return lines
