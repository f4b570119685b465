"""Prometheus and Grafana are wired into docker-compose.yml and the Helm chart from the files
in deploy/: mounts that exist, a target per service on its port, no default password, and a
chart that renders the ServiceMonitor, PrometheusRule and dashboard ConfigMaps from them."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from driftline.runtime.services import SERVICE_PORTS
from tests.unit.deploy.promql import DASHBOARDS, ROOT, RULES
from tests.unit.test_deploy_manifests import (
    KUBE_VERSION,
    TEST_VALUES,
    by_component,
    helm,
    merged,
    of_kind,
    render,
)

COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
ENABLED = {
    "metrics": {
        "serviceMonitor": {"enabled": True, "labels": {"release": "kps"}},
        "prometheusRule": {"enabled": True, "runbookBaseUrl": "https://git.example.com/dl/"},
        "grafanaDashboards": {"enabled": True},
    }
}


def bind_mounts(service: str) -> dict[str, Path]:
    """Container path → host path of a compose service's bind mounts."""
    mounts = {}
    for volume in COMPOSE[service]["volumes"]:
        source, target, *_ = volume.split(":")
        if source.startswith("./"):
            mounts[target] = ROOT / source
    return mounts


def in_container(service: str, path: str) -> Path:
    """The host file a container path of ``service`` is mounted from."""
    for target, source in bind_mounts(service).items():
        if path == target or path.startswith(target + "/"):
            return source / path[len(target) :].lstrip("/")
    raise AssertionError(f"{path} is not mounted into {service}")


def test_every_bind_mount_exists() -> None:
    for service in ("prometheus", "grafana"):
        mounts = bind_mounts(service)
        assert mounts, service
        for source in mounts.values():
            assert source.exists(), f"{service} mounts missing {source}"


def scrape_targets(config: dict[str, Any]) -> dict[str, str]:
    """service label → target of the driftline job."""
    (job,) = [j for j in config["scrape_configs"] if j["job_name"] == "driftline"]
    assert job["honor_labels"] is True
    assert job["metrics_path"] == "/metrics"
    found = {}
    for static in job["static_configs"]:
        (target,) = static["targets"]
        found[static["labels"]["service"]] = target
    return found


def test_compose_prometheus_scrapes_every_service_and_loads_the_rules() -> None:
    command = COMPOSE["prometheus"]["command"]
    flag = next(c for c in command if c.startswith("--config.file="))
    config_file = in_container("prometheus", flag.partition("=")[2])
    config = yaml.safe_load(config_file.read_text())
    assert scrape_targets(config) == {n: f"{n}:{p}" for n, p in SERVICE_PORTS.items()}
    for name, port in SERVICE_PORTS.items():  # each target host is that service's container
        assert COMPOSE[name]["environment"][f"DRIFTLINE_{name.upper()}__PORT"] == str(port)
    (rule_file,) = config["rule_files"]
    assert in_container("prometheus", rule_file).resolve() == RULES.resolve()


def test_local_prometheus_config_points_at_the_default_ports() -> None:
    local = ROOT / "deploy" / "prometheus" / "prometheus-local.yml"
    config = yaml.safe_load(local.read_text())
    assert scrape_targets(config) == {n: f"127.0.0.1:{p}" for n, p in SERVICE_PORTS.items()}
    (rule_file,) = config["rule_files"]
    assert (local.parent / rule_file).resolve() == RULES.resolve()


def test_grafana_has_no_default_password_and_no_anonymous_access_by_default() -> None:
    env = COMPOSE["grafana"]["environment"]
    password = env["GF_SECURITY_ADMIN_PASSWORD"]
    assert re.fullmatch(r"\$\{\w+:\?[^}]+\}", password), "required from the shell, no default"
    anonymous = re.fullmatch(r"\$\{\w+:-(\w+)\}", env["GF_AUTH_ANONYMOUS_ENABLED"])
    assert anonymous is not None
    assert anonymous.group(1) == "false"
    assert env["GF_AUTH_ANONYMOUS_ORG_ROLE"] == "Viewer"  # read-only when turned on
    assert env["GF_USERS_ALLOW_SIGN_UP"] == "false"
    assert ":-" not in password


def test_grafana_provisions_the_prometheus_and_the_dashboards() -> None:
    provisioning = in_container("grafana", "/etc/grafana/provisioning")
    (source,) = yaml.safe_load((provisioning / "datasources" / "prometheus.yml").read_text())[
        "datasources"
    ]
    assert source["type"] == "prometheus"
    assert source["isDefault"] is True
    port = COMPOSE["prometheus"]["ports"][0].split(":")[-1]
    assert source["url"] == f"http://prometheus:{port}"
    (provider,) = yaml.safe_load((provisioning / "dashboards" / "driftline.yml").read_text())[
        "providers"
    ]
    folder = in_container("grafana", provider["options"]["path"])
    assert folder.resolve() == DASHBOARDS.resolve()
    home = in_container("grafana", COMPOSE["grafana"]["environment"][
        "GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"])  # fmt: skip
    assert home.exists()
    assert COMPOSE["grafana"]["depends_on"]["prometheus"]["condition"] == "service_healthy"


@pytest.fixture(scope="module")
def enabled() -> list[dict[str, Any]]:
    return render(ENABLED)


def test_the_chart_leaves_monitoring_objects_out_by_default() -> None:
    docs = render()
    assert not [d for d in docs if d["kind"] in ("ServiceMonitor", "PrometheusRule")]
    assert [n for n in of_kind(docs, "ConfigMap") if "dashboard" in n] == []


def test_the_service_monitor_scrapes_every_service_like_compose(enabled) -> None:
    (monitor,) = of_kind(enabled, "ServiceMonitor").values()
    assert monitor["metadata"]["labels"]["release"] == "kps"
    selector = monitor["spec"]["selector"]["matchLabels"]
    services = by_component(enabled, "Service")
    assert set(services) == set(SERVICE_PORTS)
    for service in services.values():
        assert service["metadata"]["labels"].items() >= selector.items()
        assert [p["name"] for p in service["spec"]["ports"]] == ["http"]
    (endpoint,) = monitor["spec"]["endpoints"]
    assert (endpoint["port"], endpoint["path"], endpoint["honorLabels"]) == (
        "http",
        "/metrics",
        True,
    )
    relabel = {r["targetLabel"]: r for r in endpoint["relabelings"]}
    assert relabel["job"]["replacement"] == "driftline"
    assert relabel["service"]["sourceLabels"] == [
        "__meta_kubernetes_service_label_app_kubernetes_io_component"
    ]  # the Services' component label is the service name


def test_the_prometheus_rule_is_the_rule_file_with_absolute_runbooks(enabled) -> None:
    (rule,) = of_kind(enabled, "PrometheusRule").values()
    expected = yaml.safe_load(RULES.read_text())["groups"]
    for group in expected:
        for item in group["rules"]:
            item["annotations"]["runbook_url"] = (
                "https://git.example.com/dl/" + item["annotations"]["runbook_url"]
            )
    assert rule["spec"]["groups"] == expected


def test_dashboards_ship_as_sidecar_config_maps(enabled) -> None:
    maps = {n: d for n, d in of_kind(enabled, "ConfigMap").items() if "dashboard" in n}
    files = {p.name: p.read_text() for p in DASHBOARDS.glob("*.json")}
    assert len(maps) == len(files) == 4
    for configmap in maps.values():
        kubernetes_validate.validate(configmap, KUBE_VERSION, strict=True)
        assert configmap["metadata"]["labels"]["grafana_dashboard"] == "1"
        assert configmap["metadata"]["annotations"]["grafana_folder"] == "Driftline"
        ((name, text),) = configmap["data"].items()
        assert json.loads(text) == json.loads(files[name])


def test_the_chart_lints_clean_with_every_monitoring_object_on() -> None:
    result = helm(merged(TEST_VALUES, ENABLED))
    assert result.returncode == 0, result.stderr
    lint = json.loads(result.stdout)["lint"]
    assert lint["errors"] == []
    assert [m for m in lint["messages"] if m["severity"] >= 2] == []
