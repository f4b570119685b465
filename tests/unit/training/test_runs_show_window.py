"""``driftline runs show`` names the dataset versions and labelled rows a run trained on."""

from __future__ import annotations

from driftline.cli.training import _window


def test_a_windowed_run_shows_its_versions_rows_and_labelled_rows() -> None:
    run = {
        "status": "succeeded",
        "dataset": {"version": 3},
        "lineage": {
            "datasets": [{"version": 1}, {"version": 2}, {"version": 3}],
            "window_rows": 1200,
            "labelled_rows": 150,
        },
    }
    assert _window(run) == "versions 1, 2, 3 (1200 rows) + 150 labelled production rows"


def test_a_run_recorded_before_windows_shows_its_one_version() -> None:
    assert _window({"status": "succeeded", "dataset": {"version": 4}, "lineage": {}}) == "v4"
