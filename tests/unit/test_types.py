"""The repository passes mypy (part of the test command, like ruff in test_lint.py).

pyproject.toml's [tool.mypy] holds the levels: --strict's flags on contracts and the runtime,
plain mypy on every service module (no module is exempt with ``ignore_errors``).
"""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).parents[2]
TYPED = [ROOT / "contracts" / "driftline_contracts", ROOT / "services" / "driftline"]
IGNORE = re.compile(r"#\s*type:\s*ignore(?P<codes>\[[^\]]*\])?(?P<rest>.*)$")


def test_mypy_passes_at_the_configured_levels() -> None:
    # The cache under .mypy_cache makes a repeat run take seconds, not a minute.
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--cache-dir", str(ROOT / ".mypy_cache")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_no_module_is_exempt_from_mypy() -> None:
    overrides = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mypy"]["overrides"]
    exempt = [o["module"] for o in overrides if o.get("ignore_errors")]
    assert exempt == [], "fix these modules' types instead of ignoring their errors"


def test_every_type_ignore_names_its_code_and_reason() -> None:
    bare = []
    for folder in TYPED:
        for path in sorted(folder.rglob("*.py")):
            for number, line in enumerate(path.read_text().splitlines(), 1):
                found = IGNORE.search(line)
                if found and (not found["codes"] or not found["rest"].strip().startswith("#")):
                    bare.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert bare == [], "a type: ignore needs [code]  # reason:\n" + "\n".join(bare)
