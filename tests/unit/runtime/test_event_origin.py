"""Keys for event signatures: made by the stack, required by the services that need them."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from pydantic import SecretStr
from typer.testing import CliRunner

from driftline.cli.main import app as cli
from driftline.runtime.app import load_definition
from driftline.runtime.event_origin import SigningNotConfiguredError, event_origin
from driftline.runtime.event_signing import encode_private_key, load_private_key
from driftline.runtime.service import ServiceRuntime
from driftline.runtime.services import SERVICE_NAMES
from driftline.runtime.settings import EventSigningSettings, RuntimeSettings
from driftline.stack.event_keys import ensure_event_keys, private_key_path, public_keys_path
from driftline.stack.info import StackInfo
from driftline_contracts.events import ModelApproved, ModelSpecApplied
from driftline_contracts.examples import example
from tests.signing import KEYS, public_keys_text, signed_record, signing_settings

APPROVED = [ModelApproved.ce_type]


def test_a_signer_without_a_key_refuses_to_start() -> None:
    settings = EventSigningSettings(public_keys=public_keys_text())
    with pytest.raises(SigningNotConfiguredError, match=r"registry signs .* has no signing key"):
        event_origin(settings, "registry", []).require()


def test_a_key_the_others_do_not_know_refuses_to_start() -> None:
    others = {s: k for s, k in KEYS.items() if s != "registry"}
    settings = EventSigningSettings(
        key=SecretStr(encode_private_key(KEYS["registry"])), public_keys=public_keys_text(others)
    )
    with pytest.raises(SigningNotConfiguredError, match="not among the public keys"):
        event_origin(settings, "registry", []).require()


def test_a_consumer_without_the_signers_public_key_refuses_to_start() -> None:
    only_ingest = public_keys_text({"ingest": KEYS["ingest"]})
    with pytest.raises(SigningNotConfiguredError, match="checks events of registry"):
        event_origin(
            EventSigningSettings(public_keys=only_ingest), "deployment-probe", APPROVED
        ).require()


def test_no_settings_at_all_refuse_a_consumer_of_signed_events() -> None:
    with pytest.raises(SigningNotConfiguredError, match="DRIFTLINE_SIGNING__DISABLED"):
        event_origin(EventSigningSettings(), "monitoring", [ModelSpecApplied.ce_type]).require()


def test_a_service_neither_signing_nor_checking_needs_nothing() -> None:
    origin = event_origin(EventSigningSettings(), "ingest", ["io.driftline.data.arrived.v1"])
    origin.require()
    assert origin.signer is None
    assert not origin.disabled


def test_disabled_signs_and_checks_nothing() -> None:
    origin = event_origin(EventSigningSettings(disabled=True), "registry", APPROVED)
    assert origin.disabled
    assert origin.signer is None
    assert origin.verifier is None


def test_a_configured_service_signs_and_checks() -> None:
    origin = event_origin(signing_settings("deployment"), "deployment", APPROVED)
    origin.require()
    assert origin.signer is not None
    assert origin.verifier is not None
    record = signed_record(example(ModelApproved), by="registry")
    assert origin.verifier.verify(ModelApproved.ce_type, record.headers, record.value) == "registry"


def test_a_malformed_key_is_refused_with_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "registry.key"
    bad.write_text("not a key\n")
    settings = EventSigningSettings(key_file=str(bad), public_keys=public_keys_text())
    with pytest.raises(SigningNotConfiguredError, match=r"registry\.key: not an Ed25519"):
        event_origin(settings, "registry", []).require().require()


@pytest.mark.parametrize("service", ["registry", "deployment", "monitoring"])
async def test_the_service_runtime_refuses_to_start_without_keys(service: str) -> None:
    definition = load_definition(service)
    settings = definition.settings_cls.model_validate(RuntimeSettings().model_dump())
    runtime = ServiceRuntime(definition, settings)
    with pytest.raises(SigningNotConfiguredError):
        await runtime.start()  # at once: nothing is migrated or connected
    assert not runtime.started.is_set()
    await runtime.engine.dispose()


def test_driftline_serve_without_keys_exits_2_naming_the_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in [n for n in os.environ if n.startswith("DRIFTLINE_SIGNING__")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("DRIFTLINE_HOME", str(tmp_path))  # no stack.env, so no keys
    monkeypatch.setenv("DRIFTLINE_AUTH__DISABLED", "true")
    result = CliRunner().invoke(cli, ["serve", "registry", "--port", "0"])
    assert result.exit_code == 2
    assert "registry signs the events others act on and has no signing key" in result.output
    assert "DRIFTLINE_SIGNING__KEY_FILE" in result.output


def test_the_stack_makes_one_private_key_per_service_readable_by_its_owner(
    tmp_path: Path,
) -> None:
    ensure_event_keys(tmp_path)
    first = {s: private_key_path(tmp_path, s).read_text() for s in SERVICE_NAMES}
    ensure_event_keys(tmp_path)  # a second `stack up` keeps the keys
    assert {s: private_key_path(tmp_path, s).read_text() for s in SERVICE_NAMES} == first
    for service in SERVICE_NAMES:
        mode = stat.S_IMODE(private_key_path(tmp_path, service).stat().st_mode)
        assert mode == 0o600, (service, oct(mode))
    assert len(set(first.values())) == len(SERVICE_NAMES)
    public = public_keys_path(tmp_path).read_text()
    assert all(f"\n{s} " in public for s in SERVICE_NAMES)
    assert not any(key.strip() in public for key in first.values())


def test_each_stack_service_gets_only_its_own_key_file_and_every_public_key(
    tmp_path: Path,
) -> None:
    ensure_event_keys(tmp_path)
    info = StackInfo("k:1", "postgresql+asyncpg://x@h/d", "s3:1", "a", "s", home=tmp_path)
    env = info.service_env("registry")
    assert env["DRIFTLINE_SIGNING__KEY_FILE"] == str(private_key_path(tmp_path, "registry"))
    assert env["DRIFTLINE_SIGNING__PUBLIC_KEYS_FILE"] == str(public_keys_path(tmp_path))
    for service in SERVICE_NAMES:  # in-process services resolve the template to their own key
        settings = EventSigningSettings(
            key_file=info.env()["DRIFTLINE_SIGNING__KEY_FILE"],
            public_keys_file=env["DRIFTLINE_SIGNING__PUBLIC_KEYS_FILE"],
        )
        origin = event_origin(settings, service, [ModelSpecApplied.ce_type])
        assert origin.signer is not None
        mine = load_private_key(private_key_path(tmp_path, service).read_text())
        assert origin.signer.key_id == event_origin(
            EventSigningSettings(key=SecretStr(encode_private_key(mine)),
                                 public_keys_file=str(public_keys_path(tmp_path))),
            service, [],
        ).signer.key_id  # type: ignore[union-attr]  # fmt: skip


def test_stack_keys_env_exports_what_compose_passes_each_service(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["stack", "keys", "--home", str(tmp_path), "--env"])
    assert result.exit_code == 0, result.output
    exported = dict(
        line.removeprefix("export ").split("=", 1) for line in result.output.splitlines()
    )
    public = exported["DRIFTLINE_SIGNING_PUBLIC_KEYS"].strip("'")
    for service in SERVICE_NAMES:
        own = exported[f"DRIFTLINE_SIGNING_KEY_{service.upper()}"].strip("'")
        assert own == private_key_path(tmp_path, service).read_text().strip()
        settings = EventSigningSettings(key=SecretStr(own), public_keys=public)
        event_origin(settings, service, [ModelSpecApplied.ce_type]).require()
