"""The console is a service like the others: its name, settings, Compose and Helm wiring."""

from __future__ import annotations

import json

import pytest
import yaml

from driftline.console.settings import ConsoleSection
from driftline.runtime.app import load_definition
from driftline.runtime.services import SERVICE_NAMES, SERVICE_PORTS
from tests.unit.test_compose import COMPOSE
from tests.unit.test_deploy_manifests import by_component, parsed, pod_env, render


def test_the_console_is_a_service_with_its_own_port_and_schema_migrations() -> None:
    assert SERVICE_PORTS["console"] == 8108
    definition = load_definition("console")
    assert definition.migrations is not None
    assert (definition.migrations / "c0001_read_model.py").is_file()


def test_service_urls_default_to_each_services_documented_port() -> None:
    section = ConsoleSection(service_urls={"audit": "http://audit:8107/"})
    assert section.url_of("audit") == "http://audit:8107"
    assert section.url_of("registry") == "http://127.0.0.1:8104"


def test_compose_points_the_console_at_every_other_service() -> None:
    console = yaml.safe_load(COMPOSE.read_text())["services"]["console"]
    urls = json.loads(console["environment"]["DRIFTLINE_CONSOLE__SERVICE_URLS"])
    assert set(urls) == set(SERVICE_NAMES) - {"console"}
    assert all(url == f"http://{name}:{SERVICE_PORTS[name]}" for name, url in urls.items())


def test_helm_points_the_console_at_the_cluster_services(monkeypatch: pytest.MonkeyPatch) -> None:
    docs = render({"services": {"training": {"enabled": False}}})
    deployments = by_component(docs, "Deployment")
    settings = parsed("console", pod_env(docs, deployments["console"]), monkeypatch)
    urls = settings.console.service_urls
    assert "training" not in urls  # only services the release runs
    assert urls["audit"].endswith("-audit:8107")
    assert set(urls) == set(SERVICE_NAMES) - {"console", "training"}


def test_the_frozen_migration_creates_every_column_the_tables_describe() -> None:
    from driftline.console.adapters.tables import metadata
    from driftline.console.migrations import c0001_read_model as migration
    from driftline.console.migrations import c0002_dataset_profile as added

    created = {ddl.split("(")[0].split()[-1]: ddl for ddl in migration.TABLES}
    assert set(created) == set(metadata.tables)
    for name, table in metadata.tables.items():
        for column in table.columns:
            later = column.name in added.ADDED.get(name, [])
            assert later or f"\n    {column.name} " in created[name], f"{name}.{column.name}"
    assert added.down_revision == migration.revision


def test_every_template_and_asset_is_package_data_of_the_wheel() -> None:
    import fnmatch
    import tomllib
    from pathlib import Path

    import driftline.console

    root = Path(driftline.console.__file__).parent
    pyproject = tomllib.loads((root.parents[2] / "pyproject.toml").read_text())
    patterns = pyproject["tool"]["setuptools"]["package-data"]["driftline.console"]
    shipped = [p for folder in ("templates", "static") for p in (root / folder).iterdir()]
    assert len(shipped) > 10
    for path in shipped:
        relative = path.relative_to(root).as_posix()
        assert any(fnmatch.fnmatch(relative, pattern) for pattern in patterns), relative
