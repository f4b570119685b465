"""Serving flags counted per window: rows whose values their version never saw in training.

Deployment checks every served row against the version's input signature and flags, without
refusing, an unseen category, a case variant of a known one, a null where training had none
and a number in a string column. The flags travel with the logged rows (``PredictionRow.
flags``); each evaluated window counts them per feature and kind, with the most frequent
unseen values, for its report and for ``/metrics``.
"""

from __future__ import annotations

from collections import Counter as Tally
from collections.abc import Sequence

from prometheus_client import CollectorRegistry, Counter
from pydantic import BaseModel, Field

from driftline.monitoring.records import BufferedRow

EXAMPLES = 5
KINDS = {
    "unseen_category": "unseen category",
    "case_variant": "case variant of a known category",
    "null": "null where training had none",
    "not_a_string": "number in a string column",
}


class FlagCount(BaseModel):
    """Rows of a window flagged for one feature and kind."""

    feature: str = Field(description="The flagged feature.")
    code: str = Field(description="unseen_category, case_variant, null or not_a_string.")
    rows: int = Field(description="Rows of the window with this flag.")
    share: float = Field(description="rows / the window's rows.")
    examples: dict[str, int] = Field(
        default_factory=dict, description="The most frequent flagged values and their rows."
    )


class RowFlags(BaseModel):
    """A window's serving flags: how many rows had any, and the count per feature and kind."""

    rows: int = Field(description="Rows in the window.")
    flagged_rows: int = Field(description="Rows with at least one flag.")
    counts: list[FlagCount] = Field(default_factory=list, description="Most flagged first.")

    def lines(self) -> list[str]:
        """One sentence per count, e.g. "unseen category in `weather`: 12 of 500 rows (…)"."""
        return [
            f"{KINDS.get(c.code, c.code)} in `{c.feature}`: {c.rows} of {self.rows} rows"
            + (f" ({_shown(c.examples)})" if c.examples else "")
            for c in self.counts
        ]


def _shown(examples: dict[str, int]) -> str:
    return ", ".join(f"{value!r} x{rows}" for value, rows in examples.items())


def count_flags(rows: Sequence[BufferedRow]) -> RowFlags:
    """The window's flags counted once per row, feature and kind (examples from features)."""
    tally: Tally[tuple[str, str]] = Tally()
    values: dict[tuple[str, str], Tally[str]] = {}
    flagged = 0
    for row in rows:
        if not row.flags:
            continue
        flagged += 1
        for key in {(f["feature"], f["code"]) for f in row.flags}:
            tally[key] += 1
            value = (row.features or {}).get(key[0])
            if value is not None:
                values.setdefault(key, Tally())[str(value)] += 1
    total = len(rows)
    counts = [
        FlagCount(
            feature=feature, code=code, rows=n, share=n / total if total else 0.0,
            examples=dict(values.get((feature, code), Tally()).most_common(EXAMPLES)),
        )
        for (feature, code), n in sorted(tally.items(), key=lambda item: (-item[1], item[0]))
    ]  # fmt: skip
    return RowFlags(rows=total, flagged_rows=flagged, counts=counts)


def flagged_rows_counter(registry: CollectorRegistry | None) -> Counter:
    """``driftline_monitoring_flagged_rows_total{model,version,feature,code}``."""
    return Counter(
        "driftline_monitoring_flagged_rows",
        "Rows of evaluated drift windows served with a value their version never saw in "
        "training (unseen category, case variant, null, number in a string column).",
        ["model", "version", "feature", "code"],
        registry=registry,
    )


def window_rows_counter(registry: CollectorRegistry | None) -> Counter:
    """``driftline_monitoring_window_rows_total{model,version}``: the flags' denominator."""
    return Counter(
        "driftline_monitoring_window_rows",
        "Champion predictions evaluated in drift windows.",
        ["model", "version"],
        registry=registry,
    )
