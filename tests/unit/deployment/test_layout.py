"""The deployment layout keeps its promises: ModelPromoted built once, documented paths exist."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import driftline.deployment

PACKAGE = Path(driftline.deployment.__file__).parent
ARCHITECTURE = Path(__file__).parents[3] / "docs" / "architecture.md"


def _builders(name: str) -> set[str]:
    found = set()
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == name:
                found.add(path.relative_to(PACKAGE).as_posix())
    return found


def test_model_promoted_is_built_in_one_module() -> None:
    assert _builders("ModelPromoted") == {"rollout/promotion.py"}


def test_the_layout_the_architecture_doc_names_exists() -> None:
    section = ARCHITECTURE.read_text().split("## Deployment by capability")[1].split("\n## ")[0]
    named = set(re.findall(r"`((?:[a-z_]+/)+[a-z_]+\.py)`", section)) - {
        "tests/unit/deployment/fakes.py"
    }
    assert {"rollout/judge/rule.py", "prediction_log/writer.py", "rollout/promotion.py"} <= named
    assert sorted(p for p in named if not (PACKAGE / p).is_file()) == []
