"""Figures each reliability scenario measured: kept for the session, written as JSON, tabled."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

COLUMNS = ("events in", "effects", "lost", "duplicates applied", "redeliveries")


@dataclass
class Figures:
    """Rows of ``scenario → figures``; every :meth:`record` rewrites ``path`` as JSON."""

    path: Path
    rows: list[dict[str, Any]] = field(default_factory=list)

    def record(self, scenario: str, **figures: Any) -> None:
        """Keep one scenario's figures (the common columns plus any of its own)."""
        row = {"scenario": scenario, **figures}
        self.rows.append(row)
        self.path.write_text(json.dumps(self.rows, indent=2, default=str))
        print(f"\n[reliability] {json.dumps(row, default=str)}")  # visible with -s too

    def table(self) -> str:
        """Markdown table: the common columns, then each scenario's other figures."""
        lines = [
            "| scenario | " + " | ".join(COLUMNS) + " | other figures |",
            "|---|" + "---|" * (len(COLUMNS) + 1),
        ]
        for row in self.rows:
            common = [str(row.get(c, "-")) for c in COLUMNS]
            other = ", ".join(
                f"{k}: {v}"
                for k, v in row.items()
                if k not in COLUMNS and k != "scenario" and not isinstance(v, dict)
            )
            lines.append(f"| {row['scenario']} | " + " | ".join(common) + f" | {other} |")
        return "\n".join(lines)


FIGURES = pytest.StashKey["Figures"]()
"""Where the session's :class:`Figures` live in ``config.stash``."""


def worker_id(config: pytest.Config) -> str | None:
    """The xdist worker's id (gw0, gw1, …), or None in the controller or a plain run."""
    workerinput = getattr(config, "workerinput", None)
    return workerinput["workerid"] if workerinput else None


def recorded(config: pytest.Config) -> Figures | None:
    """This process's figures, or in the xdist controller every worker's, merged."""
    found = config.stash.get(FIGURES, None)
    if found is not None and found.rows:
        return found
    if worker_id(config) is not None or not hasattr(config, "_tmp_path_factory"):
        return None
    base = config._tmp_path_factory.getbasetemp()
    merged = Figures(base / "reliability-figures.json")
    for part in sorted(base.glob("reliability-figures-*.json")):
        merged.rows.extend(json.loads(part.read_text()))
    if merged.rows:
        merged.path.write_text(json.dumps(merged.rows, indent=2, default=str))
    return merged if merged.rows else None
