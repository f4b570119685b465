"""bench.run: prerequisites before any suite, each section written as its suite ends, in place."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import doc_sections, prereqs, run
from bench.doc_sections import SectionError, replace_section

ORDER = ["codec", "predict", "drift"]
PAGE = (
    "# Benchmarks\n\nintro  with two spaces \n\n"
    "<!-- suite:codec -->\n## codec\n\nold codec\n<!-- /suite:codec -->\n\n"
    "<!-- suite:predict -->\n## predict\n\n| old | 1 |\n<!-- /suite:predict -->\n\n"
    "### Hand-written: Kafka log\n\nnotes that mention `<!-- suite:predict -->` inline\n"
    "\n### Hand-written: ONNX\r\n\ttabbed, no final newline"
)


def test_replacing_a_section_keeps_the_text_around_it_byte_for_byte() -> None:
    new = replace_section(PAGE, "predict", ["## predict", "", "| new | 2 |", ""], ORDER)
    head, _, rest = PAGE.partition("## predict\n\n| old | 1 |\n")
    assert new == head + "## predict\n\n| new | 2 |\n" + rest
    assert new.endswith("### Hand-written: ONNX\r\n\ttabbed, no final newline")
    assert replace_section(new, "predict", ["## predict", "", "| old | 1 |"], ORDER) == PAGE


def test_a_suite_without_markers_goes_before_the_next_suite_or_at_the_end() -> None:
    page = replace_section(PAGE, "drift", ["## drift", "", "restored"], ORDER)
    assert page.startswith(PAGE)
    assert page.endswith(
        "no final newline\n\n<!-- suite:drift -->\n## drift\n\nrestored\n<!-- /suite:drift -->\n"
    )
    no_codec = PAGE.replace(
        "<!-- suite:codec -->\n## codec\n\nold codec\n<!-- /suite:codec -->\n\n", ""
    )
    back = replace_section(no_codec, "codec", ["## codec", "", "old codec"], ORDER)
    assert back == PAGE


@pytest.mark.parametrize(
    "broken",
    [
        PAGE.replace("<!-- /suite:predict -->\n", ""),
        PAGE.replace("<!-- suite:predict -->\n", ""),
        PAGE + "\n<!-- suite:predict -->\n<!-- /suite:predict -->\n",
        PAGE.replace("<!-- suite:predict -->", "<!-- /suite:predict -->", 1).replace(
            "<!-- /suite:predict -->\n\n###", "<!-- suite:predict -->\n\n###"
        ),
    ],
    ids=["no end", "no start", "twice", "reversed"],
)
def test_broken_markers_are_refused_rather_than_guessed(broken: str) -> None:
    with pytest.raises(SectionError, match="suite:predict"):
        replace_section(broken, "predict", ["## predict"], ORDER)


def test_the_page_is_written_by_one_rename_and_leaves_no_scratch_file(tmp_path: Path) -> None:
    page = tmp_path / "benchmarks.md"
    page.write_bytes(PAGE.encode())
    page.chmod(0o640)
    doc_sections.store_section(page, "codec", ["## codec", "", "new codec"], ORDER, "intro")
    assert page.read_bytes() == PAGE.replace("old codec", "new codec").encode()
    assert oct(page.stat().st_mode & 0o777) == oct(0o640)
    assert [p.name for p in tmp_path.iterdir()] == ["benchmarks.md"]


def _fake_suites(page: Path, seen: list[str], failing: str = "") -> dict[str, run.Suite]:
    def suite(name: str) -> run.Suite:
        def report(quick: bool) -> list[str]:
            seen.append(page.read_text() if page.exists() else "")
            if name == failing:
                raise RuntimeError(f"{name} blew up")
            return [f"{name} figures"]

        return report

    return {name: suite(name) for name in ORDER}


def test_each_section_is_on_disk_before_the_next_suite_starts(tmp_path: Path) -> None:
    page = tmp_path / "benchmarks.md"
    page.write_bytes(PAGE.encode())
    seen: list[str] = []
    told: list[str] = []
    failed = run.run(
        False, ORDER, page, suites=_fake_suites(page, seen, "predict"), say=told.append
    )
    assert failed == ["predict"]
    assert "codec figures" not in seen[0]
    assert "codec figures" in seen[1]
    assert "codec figures" in seen[2]
    final = page.read_text()
    assert "drift figures" in final
    assert "| old | 1 |" in final  # the failed suite keeps its section
    assert "predict figures" not in final
    assert "### Hand-written: Kafka log" in final
    assert final.endswith("<!-- /suite:drift -->\n")
    assert any("predict failed" in line and "predict blew up" in line for line in told)


def test_a_new_page_gets_the_header_and_the_section(tmp_path: Path) -> None:
    page = tmp_path / "new.md"
    run.run(False, ["codec"], page, suites=_fake_suites(page, []), say=lambda _: None)
    text = page.read_text()
    assert text.startswith(f"# Benchmarks\n\n{run.INTRO}\n\n<!-- suite:codec -->\n## codec\n")
    assert text.endswith("codec figures\n<!-- /suite:codec -->\n")


def _missing() -> str:
    return "apt-get install wrk"


NEEDS = {
    "codec": (prereqs.Requirement("nothing", lambda: None),),
    "predict": (prereqs.Requirement("`wrk` on PATH", _missing),),
    "drift": (prereqs.Requirement("Evidently peer venv", lambda: "built on first use", False),),
}


def test_a_missing_prerequisite_names_itself_and_how_to_get_it() -> None:
    with pytest.raises(prereqs.PrerequisiteError) as raised:
        prereqs.require(ORDER, NEEDS)
    message = str(raised.value)
    assert "no suite was run" in message
    assert "missing: [predict] `wrk` on PATH: apt-get install wrk" in message
    assert "note: [drift] Evidently peer venv: built on first use" in message
    assert prereqs.require(["codec", "drift"], NEEDS) == [
        "note: [drift] Evidently peer venv: built on first use"
    ]


def test_main_stops_before_any_suite_when_wrk_is_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    page = tmp_path / "benchmarks.md"
    page.write_bytes(PAGE.encode())
    started: list[str] = []
    monkeypatch.setattr(prereqs.shutil, "which", lambda name: None)

    def codec(quick: bool) -> list[str]:
        started.append("codec")
        return []

    monkeypatch.setitem(run.SUITES, "codec", codec)
    code = run.main(["--suite", "codec", "--suite", "predict", "--output", str(page)])
    assert code == 2
    assert started == []
    assert page.read_bytes() == PAGE.encode()
    assert "missing: [predict] `wrk` on PATH: apt-get install wrk" in capsys.readouterr().err


def test_check_only_checks(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    page = tmp_path / "benchmarks.md"
    assert run.main(["--check", "--suite", "codec", "--output", str(page)]) == 0
    assert not page.exists()
    assert "prerequisites of codec met" in capsys.readouterr().err


def test_every_suite_declares_its_prerequisites() -> None:
    assert set(prereqs.REQUIREMENTS) == set(run.SUITES)
    assert prereqs.WRK in prereqs.REQUIREMENTS["predict"]
    assert prereqs.WRK in prereqs.REQUIREMENTS["registry"]


def test_the_committed_page_has_one_well_formed_section_per_suite() -> None:
    found = doc_sections.sections(run.DOC.read_bytes().decode(), list(run.SUITES))
    assert list(found) == list(run.SUITES)
    assert "Must be re-measured" not in found["drift"]  # the restored record was replaced
    assert "read from the prediction log within 1.5x of the floor (issue 16)" in found["drift"]


def test_main_exits_1_naming_the_suite_that_failed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    page = tmp_path / "benchmarks.md"
    page.write_bytes(PAGE.encode())

    def codec(quick: bool) -> list[str]:
        raise RuntimeError("codec blew up")

    monkeypatch.setitem(run.SUITES, "codec", codec)
    assert run.main(["--suite", "codec", "--output", str(page)]) == 1
    assert page.read_bytes() == PAGE.encode()
    assert "bench: failed: codec" in capsys.readouterr().err
