"""Every ``driftline`` command in docs/tutorial.md parses: the command exists, its options do."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from driftline.cli.main import app
from driftline_contracts.modelspec import ModelSpec

TUTORIAL = Path(__file__).resolve().parents[2] / "docs" / "tutorial.md"
_BLOCK = re.compile(r"```(\w*)\n(.*?)```", re.S)


def blocks(language: str) -> list[str]:
    return [body for lang, body in _BLOCK.findall(TUTORIAL.read_text()) if lang == language]


def commands() -> list[list[str]]:
    """``driftline …`` lines of the bash blocks, continuations joined, ``$(…)`` stubbed."""
    found = []
    for body in blocks("bash"):
        for line in body.replace("\\\n", " ").splitlines():
            if line.startswith("driftline "):
                stubbed = re.sub(r"\$\([^)]*\)", "X", line)
                found.append(shlex.split(stubbed, comments=True)[1:])
    return found


def test_the_tutorial_uses_the_main_commands() -> None:
    used = {words[0] for words in commands()}
    assert used >= {"up", "apply", "ingest", "publish", "audit", "models", "lineage"}


@pytest.mark.parametrize("words", commands(), ids=" ".join)
def test_every_command_and_option_exists(words: list[str]) -> None:
    # --help is eager: parsing still rejects unknown commands and options, nothing runs.
    result = CliRunner().invoke(app, [*words, "--help"])
    assert result.exit_code == 0, result.output


def test_the_spec_is_a_valid_model_spec() -> None:
    (spec,) = blocks("yaml")
    parsed = ModelSpec.model_validate(yaml.safe_load(spec))
    publish_script = blocks("python")[0]
    assert f'name="{parsed.dataset}"' in publish_script
    assert f"--dataset {parsed.dataset}" in TUTORIAL.read_text()
