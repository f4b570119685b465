"""``driftline audit verify`` without a key refuses to guess one; its report names the seq."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from driftline.audit.verify import assess
from driftline.cli import audit as audit_cli
from tests.unit.audit.chains import KEY, by_number, chain, sign_at


def test_verify_without_a_digest_key_exits_2_naming_the_setting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DRIFTLINE_HOME", str(tmp_path))  # no local stack there
    monkeypatch.delenv("DRIFTLINE_AUDIT__DIGEST_KEY", raising=False)
    result = CliRunner().invoke(audit_cli.app, ["verify"])
    assert result.exit_code == 2
    assert "DRIFTLINE_AUDIT__DIGEST_KEY" in result.output


def test_the_report_names_each_finding_with_its_seq(monkeypatch: pytest.MonkeyPatch) -> None:
    rows = chain(20)
    digests = sign_at(rows, (8, 20))
    forged = dataclasses.replace(digests[0], signed_at="later")
    report = assess(KEY, rows[:12], [forged], {"s3": (by_number(digests), True)})
    console = Console(width=200, record=True)
    monkeypatch.setattr(audit_cli, "console", console)
    audit_cli.print_report(report)
    text = console.export_text()
    assert "truncated at seq 13 (digest 2)" in text
    assert "bad-signature at seq 8 (digest 1)" in text
    assert "resigned at seq 8 (digest 1)" in text
