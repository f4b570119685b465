"""Building the validation service imports no statistics stack: it comes with the first arrival."""

from __future__ import annotations

import os
import subprocess
import sys

HEAVY = ("scipy", "sklearn", "pandas", "pyarrow")

PROBE = f"""
import sys
from driftline.runtime.app import build_service_app
build_service_app("validation")
print(sorted(m for m in {HEAVY!r} if m in sys.modules))
"""

QUIET = {"DRIFTLINE_AUTH__DISABLED": "true", "DRIFTLINE_SIGNING__DISABLED": "true"}


def test_building_validation_imports_no_pandas_scipy_or_pyarrow() -> None:
    env = {**os.environ, **QUIET}
    out = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, check=True, env=env
    )
    assert out.stdout.strip().splitlines()[-1] == "[]"  # ~0.9 s of CPU less per (re)start


def test_the_handler_still_finds_the_workflow_and_the_old_import_path_works() -> None:
    from driftline.validation import workflow
    from driftline.validation.deps import ValidationDeps

    assert workflow.ValidationDeps is ValidationDeps
    assert callable(workflow.validate_arrival)
