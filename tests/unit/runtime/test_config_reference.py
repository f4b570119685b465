"""The configuration reference in docs/ is generated from the settings and kept current."""

from __future__ import annotations

from pathlib import Path

from driftline.runtime.config_reference import render

DOC = Path(__file__).parents[3] / "docs" / "configuration.md"


def test_checked_in_reference_is_current() -> None:
    assert DOC.read_text() == render(), (
        "docs/configuration.md is stale: run "
        "python -m driftline.runtime.config_reference > docs/configuration.md"
    )


def test_reference_lists_nested_and_per_service_settings() -> None:
    text = render()
    for variable in (
        "DRIFTLINE_KAFKA__BOOTSTRAP_SERVERS",
        "DRIFTLINE_DATABASE__URL",
        "DRIFTLINE_STORAGE__SECRET_KEY",
        "DRIFTLINE_TRAINING__PORT",
    ):
        assert f"`{variable}`" in text
    assert "| `DRIFTLINE_TRAINING__PORT` | int | `8103` |" in text
