"""The operators' dashboards and alerts (deploy/grafana, deploy/prometheus) ask only for
metrics the services export, parse as PromQL, follow Prometheus's rule structure, and link
to runbooks that exist in docs/observability.md."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import promql_parser
import pytest
import yaml

from driftline.runtime.metrics import Metrics
from driftline.runtime.services import SERVICE_NAMES
from driftline_contracts.catalog import EVENTS
from driftline_contracts.topics import all_topics
from tests.unit.deploy.promql import (
    DASHBOARDS,
    ROOT,
    RULES,
    TARGET_LABELS,
    dashboard_expressions,
    dashboards,
    declared_metrics,
    exported_series,
    panels,
    rule_expressions,
    rules,
    selectors,
    variable_selector,
)

RUNBOOKS = ROOT / "docs" / "observability.md"
RULE_KEYS = {"alert", "expr", "for", "keep_firing_for", "labels", "annotations"}
SEVERITIES = {"critical", "warning", "info"}
KNOWN_VALUES = {
    "type": {cls.ce_type for cls in EVENTS},
    "service": set(SERVICE_NAMES),
    "topic": set(all_topics()),
    "job": {"driftline"},
}


def expressions() -> list[tuple[str, str]]:
    return [*rule_expressions(), *dashboard_expressions()]


def test_the_source_scan_finds_what_a_service_registers() -> None:
    """The declarations read from the runtime's source are the families its registry holds."""
    registered = {family.name for family in Metrics("probe").registry.collect()}
    runtime = ROOT / "services" / "driftline" / "runtime"
    assert {d.family for d in declared_metrics(runtime)} == registered
    assert "driftline_http_requests_total" in exported_series()
    assert "driftline_audit_chain_ok" in exported_series()  # a service's own, outside runtime


def test_the_scan_reads_names_and_labels_of_each_kind(tmp_path: Path) -> None:
    (tmp_path / "m.py").write_text(
        "from prometheus_client import Counter, Gauge, Histogram\n"
        'a = Counter("driftline_things_total", "Doc.", ["model"])\n'
        'b = Histogram("driftline_wait_seconds", "Doc " "split.", labelnames=["route"])\n'
        'c = Gauge("driftline_level", "Doc.")\n'
        'd = Counter("other_thing", "Not ours.")\n'
        'e = Counter(name_from_elsewhere, "Not literal.")\n'
    )
    found = {d.name: d for d in declared_metrics(tmp_path.parent / tmp_path.name)}
    assert set(found) == {"driftline_things_total", "driftline_wait_seconds", "driftline_level"}
    assert set(found["driftline_things_total"].series()) == {
        "driftline_things_total", "driftline_things_created",
    }  # fmt: skip
    assert found["driftline_wait_seconds"].series()["driftline_wait_seconds_bucket"] == {
        "route", "le",
    }  # fmt: skip
    assert found["driftline_level"].series() == {"driftline_level": frozenset()}
    (tmp_path / "m.py").write_text(
        "from prometheus_client import Gauge\n"
        'names = ["model"]\n'
        'g = Gauge("driftline_hidden", "Doc.", names)\n'
    )
    declared_metrics.cache_clear()
    with pytest.raises(ValueError, match="driftline_hidden are not a literal"):
        declared_metrics(tmp_path)


def test_there_are_dashboards_and_rules_to_check() -> None:
    assert {"overview.json", "serving.json", "lifecycle.json", "audit.json"} <= set(dashboards())
    assert len(rules()) >= 10
    assert len(expressions()) > 50


@pytest.mark.parametrize(("where", "expr"), expressions(), ids=lambda v: v[:60])
def test_every_expression_parses_and_names_exported_metrics(where: str, expr: str) -> None:
    try:
        found = selectors(expr)
    except ValueError as exc:
        pytest.fail(f"{where}: not PromQL ({exc}): {expr}")
    assert found, f"{where}: selects no metric"
    exported = exported_series()
    for selector in found:
        assert selector.name in exported, (
            f"{where}: {selector.name!r} is not exported by any service "
            f"(declared: {sorted(n for n in exported if n.startswith(selector.name[:12]))})"
        )
        labels = exported[selector.name] | TARGET_LABELS
        for label, op, value in selector.matchers:
            assert label in labels, f"{where}: {selector.name} has no label {label!r}"
            known = KNOWN_VALUES.get(label)
            if known is not None and op == "=":
                assert value in known, f"{where}: {label}={value!r} is not a real {label}"
            if known is not None and op == "=~":
                pattern = re.compile(value)
                assert any(pattern.fullmatch(v) for v in known), (
                    f"{where}: {value!r} matches no {label}"
                )


def test_an_expression_naming_a_metric_no_service_exports_is_caught() -> None:
    exported = exported_series()
    (typo,) = selectors('rate(driftline_dead_letter_total{service="audit"}[5m])')
    assert typo.name not in exported
    with pytest.raises(ValueError, match="unclosed"):
        selectors("sum(rate(driftline_dead_letters_total[5m])")
    assert variable_selector('label_values(up{job="driftline"}, service)') == 'up{job="driftline"}'


def test_rule_file_has_prometheus_structure() -> None:
    document = yaml.safe_load(RULES.read_text())
    assert set(document) == {"groups"}
    names = [group["name"] for group in document["groups"]]
    assert len(names) == len(set(names)), "group names must be unique"
    alerts = []
    for group in document["groups"]:
        assert set(group) <= {"name", "interval", "rules", "limit"}, group["name"]
        assert group["rules"], f"group {group['name']} is empty"
        for rule in group["rules"]:
            assert set(rule) <= RULE_KEYS, f"unknown keys in {rule.get('alert')}"
            assert re.fullmatch(r"Driftline[A-Z][A-Za-z]+", rule["alert"])
            alerts.append(rule["alert"])
            assert isinstance(rule["expr"], str)
            assert rule["expr"].strip()
            if "for" in rule:
                promql_parser.parse_duration(rule["for"])
            assert rule["labels"]["severity"] in SEVERITIES, rule["alert"]
            annotations = rule["annotations"]
            assert {"summary", "description", "runbook_url"} <= set(annotations), rule["alert"]
            for text in annotations.values():
                assert text.count("{{") == text.count("}}"), f"{rule['alert']}: template braces"
    assert len(alerts) == len(set(alerts)), "alert names must be unique"


def anchors(markdown: str) -> set[str]:
    """GitHub's heading anchors of a Markdown document."""
    found = set()
    for line in markdown.splitlines():
        if line.startswith("#"):
            title = line.lstrip("#").strip().lower()
            found.add(re.sub(r"[^\w\- ]", "", title).replace(" ", "-"))
    return found


def test_every_alert_links_its_runbook_in_the_docs() -> None:
    documented = anchors(RUNBOOKS.read_text())
    for rule in rules():
        link = rule["annotations"]["runbook_url"]
        path, _, anchor = link.partition("#")
        assert path == "docs/observability.md", f"{rule['alert']}: {link}"
        assert anchor == rule["alert"].lower(), f"{rule['alert']}: anchor {anchor}"
        assert anchor in documented, f"{rule['alert']}: no heading '### {rule['alert']}'"


def test_the_expected_alerts_exist() -> None:
    assert {r["alert"] for r in rules()} >= {
        "DriftlineServiceDown", "DriftlineServiceNotReady", "DriftlineHighServerErrorRate",
        "DriftlineDeadLettersIncreasing", "DriftlineConsumerLagGrowing",
        "DriftlineCanaryRolledBack", "DriftlineDriftEpisodeOpenTooLong",
        "DriftlineAuditChainBroken", "DriftlineTrainingFailures", "DriftlineOutboxBacklog",
    }  # fmt: skip


@pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool not installed")
def test_promtool_checks_the_rules_and_their_unit_tests_pass() -> None:
    """promtool (Debian's prometheus package): syntax, and deploy/prometheus/rules' tests."""
    rules_dir = RULES.parent
    for args in (["check", "rules", RULES.name], ["test", "rules", "driftline.rules.test.yml"]):
        result = subprocess.run(
            ["promtool", *args], cwd=rules_dir, capture_output=True, text=True, timeout=120,
            check=False,
        )  # fmt: skip
        assert result.returncode == 0, result.stdout + result.stderr


def test_dashboards_are_well_formed_grafana_json() -> None:
    uids = set()
    for file, board in dashboards().items():
        assert board["uid"].startswith("driftline-"), file
        assert board["uid"] not in uids, file
        uids.add(board["uid"])
        assert "driftline" in board["tags"]
        variables = {v["name"]: v for v in board["templating"]["list"]}
        assert variables["datasource"]["type"] == "datasource"
        assert variables["datasource"]["query"] == "prometheus"
        ids = [p["id"] for p in panels(board)]
        assert len(ids) == len(set(ids)), f"{file}: panel ids repeat"
        for panel in panels(board):
            grid = panel["gridPos"]
            assert grid["x"] >= 0, f"{file}: {panel['title']}"
            assert grid["x"] + grid["w"] <= 24, f"{file}: {panel['title']}"
            if panel["type"] == "row":
                continue
            assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
            refs = [t["refId"] for t in panel["targets"]]
            assert refs, f"{file}: {panel['title']} has no query"
            assert len(refs) == len(set(refs)), f"{file}: {panel['title']}"
            assert panel.get("description"), f"{file}: {panel['title']} says nothing"
            used = re.findall(r"\$\{?(\w+)", " ".join(t["expr"] for t in panel["targets"]))
            unknown = {u for u in used if not u.startswith("__") and u not in variables}
            assert not unknown, f"{file}: {panel['title']} uses undefined {unknown}"


def test_the_overview_covers_what_an_operator_watches() -> None:
    text = (DASHBOARDS / "overview.json").read_text()
    for metric in (
        "up{", "driftline_ready", "driftline_http_requests_total", "driftline_consumer_lag",
        "driftline_http_request_seconds_bucket", "driftline_dead_letters_total",
        "driftline_outbox_backlog",
    ):  # fmt: skip
        assert metric in text, metric
    assert 'status=~\\"5..\\"' in text
    assert "histogram_quantile(0.5," in text
    assert "histogram_quantile(0.99," in text


def test_declarations_in_the_scanner_register_cleanly() -> None:
    """No two services declare the same name with different kinds (one series, one type)."""
    kinds: dict[str, str] = {}
    for declared in declared_metrics():
        assert kinds.setdefault(declared.name, declared.kind) == declared.kind, declared.where
