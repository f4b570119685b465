"""The client's API reference: current in docs/, complete, and the async client a true mirror."""

from __future__ import annotations

import re
from pathlib import Path

from typer.testing import CliRunner

from driftline.cli.main import app
from driftline.client import reference
from driftline.client.reference_markdown import anchor, render, signature

DOC = Path(__file__).parents[3] / "docs" / "client-api.md"


def test_checked_in_reference_is_current() -> None:
    assert DOC.read_text() == render(), (
        "docs/client-api.md is stale: run driftline docs client-api --write docs/client-api.md"
    )


def test_every_public_class_and_method_has_a_one_line_summary() -> None:
    missing = reference.missing_docstrings()
    assert missing == [], f"give these a docstring with a one-line summary: {missing}"


def test_every_public_method_is_placed_under_a_topic() -> None:
    assert reference.unassigned() == [], "add them to TOPICS in driftline/client/reference.py"


def test_the_async_client_mirrors_every_sync_method_with_the_same_parameters() -> None:
    gaps = reference.mirror_gaps()
    assert gaps == [], gaps
    assert reference.without_twin() == []


class _Sync:
    """A sync class."""

    def fetch(self, name: str, *, limit: int = 10) -> None:
        """Fetch."""

    def only_here(self) -> None:
        """Only here."""

    def close(self) -> None:
        """Close."""

    def undocumented(self) -> None:
        pass


class _Async:
    """Its async twin, with gaps."""

    async def fetch(self, name: str, *, limit: int = 20) -> None:
        """Fetch, with another default."""

    async def aclose(self) -> None:
        """Close."""

    def undocumented(self) -> None:
        """Not a coroutine."""

    async def extra(self) -> None:
        """Only in the async class."""


def test_mirror_check_names_each_kind_of_gap() -> None:
    gaps = reference.mirror_gaps([(_Sync, _Async)])
    assert gaps == [
        "_Async.fetch takes other parameters than _Sync.fetch",
        "_Async.only_here is missing (twin of _Sync.only_here)",
        "_Async.undocumented is not a coroutine function",
        "_Async.extra has no sync twin in _Sync",
    ]
    assert reference.without_twin([(_Sync, _Async)]) == ["_Sync.only_here"]


def test_docstring_check_names_a_missing_docstring_and_a_two_line_summary() -> None:
    class Wrapped:
        """A summary that runs
        over two lines."""

    assert reference.missing_docstrings([_Sync, Wrapped]) == ["_Sync.undocumented", "Wrapped"]


def test_every_documented_name_has_an_entry_and_every_link_a_heading() -> None:
    text = render()
    headings = {anchor(h) for h in re.findall(r"^#{2,3} (.+)$", text, flags=re.MULTILINE)}
    for name in reference.documented_names():
        assert f"### `{name}`" in text
    links = set(re.findall(r"\]\(#([^)]+)\)", text))
    assert links - headings == set()


def test_entries_show_signature_summary_and_body() -> None:
    text = render()
    assert '```python\nend(status: EndStatus = "FINISHED") -> TrackedRun\n```' in text
    assert "start_run(name: str | None = None, **tags: str) -> Run" in text
    assert "### `Run.run_id`\n\n```python\nrun_id: str\n```\n\nThe run's id. *(property)*" in text
    assert "``SubmissionTimeoutError`` (a ``TimeoutError``) after ``timeout_s``" in text
    assert "| `status` | `RunStatus` | RUNNING until ended. |" in text
    assert "- `EndStatus` = `Literal['FINISHED', 'FAILED', 'KILLED']`" in text


def test_a_long_signature_gets_one_parameter_a_line() -> None:
    def submit(self: object, estimator: object, *, model: str, run_id: str | None = None,
               timeout_seconds_to_wait_for: float = 300.0) -> None:  # fmt: skip
        """A long one."""

    assert signature("submit", submit) == (
        "submit(\n    estimator: object,\n    *,\n    model: str,\n"
        "    run_id: str | None = None,\n    timeout_seconds_to_wait_for: float = 300.0,\n) -> None"
    )


def test_cli_writes_and_prints_the_reference(tmp_path: Path) -> None:
    target = tmp_path / "docs" / "client-api.md"
    written = CliRunner().invoke(app, ["docs", "client-api", "--write", str(target)])
    assert written.exit_code == 0, written.output
    assert target.read_text() == render()
    printed = CliRunner().invoke(app, ["docs", "client-api"])
    assert printed.exit_code == 0
    assert printed.output == render()
