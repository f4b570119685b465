"""A service imports the contracts and the shared runtime, never another service."""

from __future__ import annotations

import ast
from pathlib import Path

import driftline
from driftline.runtime.services import SERVICE_NAMES

PACKAGE_ROOT = Path(driftline.__file__).parent


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    modules: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules.add(node.module)
    return modules


def _violations(service: str) -> list[str]:
    found = []
    for path in (PACKAGE_ROOT / service).rglob("*.py"):
        for module in _imported_modules(path):
            parts = module.split(".")
            if (
                parts[0] == "driftline"
                and len(parts) > 1
                and parts[1] in SERVICE_NAMES
                and parts[1] != service
            ):
                found.append(f"{path.relative_to(PACKAGE_ROOT)} imports {module}")
            if parts[0] == "driftline" and len(parts) > 1 and parts[1] in {"cli", "stack"}:
                found.append(f"{path.relative_to(PACKAGE_ROOT)} imports {module}")
    return found


def test_every_service_package_exists() -> None:
    assert all((PACKAGE_ROOT / name / "app.py").is_file() for name in SERVICE_NAMES)


def test_services_do_not_import_each_other() -> None:
    violations = [v for name in SERVICE_NAMES for v in _violations(name)]
    assert violations == []


def test_runtime_imports_no_service() -> None:
    bad = [
        f"{path.name}: {module}"
        for path in (PACKAGE_ROOT / "runtime").rglob("*.py")
        for module in _imported_modules(path)
        if module.split(".")[:2] in ([["driftline", s] for s in SERVICE_NAMES])
    ]
    assert bad == []


def test_the_checker_catches_a_cross_service_import(tmp_path: Path) -> None:
    offender = tmp_path / "handlers.py"
    offender.write_text("from driftline.training.core import train_model\n")
    assert "driftline.training.core" in _imported_modules(offender)


def test_nothing_generic_at_the_top_of_site_packages() -> None:
    import importlib.util

    for generic in ("services", "contracts", "common", "runtime"):
        spec = importlib.util.find_spec(generic)
        assert spec is None or "site-packages" not in str(spec.origin or ""), generic
