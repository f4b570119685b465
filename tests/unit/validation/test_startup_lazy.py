"""What moved behind first use still works (the start-up import probe of every service is
in tests/unit/runtime/test_startup_lazy.py)."""

from __future__ import annotations


def test_the_handler_still_finds_the_workflow_and_the_old_import_path_works() -> None:
    from driftline.validation import workflow
    from driftline.validation.deps import ValidationDeps

    assert workflow.ValidationDeps is ValidationDeps
    assert callable(workflow.validate_arrival)
