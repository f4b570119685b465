"""Ingest settings: the upload limit is configurable and defaults to 512 MiB."""

from __future__ import annotations

import pytest

from driftline.ingest.app import definition
from driftline.ingest.settings import IngestSection, IngestSettings, ingest_section
from driftline.runtime.settings import RuntimeSettings


def test_upload_limit_defaults_to_512_mib() -> None:
    assert IngestSettings().ingest.max_upload_bytes == 512 * 1024 * 1024


def test_upload_limit_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DRIFTLINE_INGEST__MAX_UPLOAD_BYTES", "1000")
    monkeypatch.setenv("DRIFTLINE_INGEST__PORT", "9001")
    settings = IngestSettings()
    assert (settings.ingest.max_upload_bytes, settings.section("ingest").port) == (1000, 9001)


def test_service_loads_its_own_settings_class() -> None:
    assert definition().settings_cls is IngestSettings


def test_plain_runtime_settings_get_the_upload_defaults() -> None:
    section = ingest_section(RuntimeSettings().section("ingest"))
    assert isinstance(section, IngestSection)
    assert section.port == 8101
