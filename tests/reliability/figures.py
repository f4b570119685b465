"""Figures each reliability scenario measured: kept for the session, written as JSON, tabled."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

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
