"""What the dashboards and alert rules ask Prometheus for, and what the services export.

Expressions are parsed with ``promql-parser`` (the Rust PromQL parser); metric declarations
are read from the services' source (every ``Counter(``/``Gauge(``/``Histogram(`` with a
literal ``driftline_*`` name), so a metric registered lazily or in one service only counts.
"""

from __future__ import annotations

import ast
import functools
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import promql_parser
import yaml

ROOT = Path(__file__).resolve().parents[3]
DASHBOARDS = ROOT / "deploy" / "grafana" / "dashboards"
RULES = ROOT / "deploy" / "prometheus" / "rules" / "driftline.rules.yml"
TARGET_LABELS = frozenset({"job", "instance", "service"})
"""Labels Prometheus puts on every scraped series (docs/observability.md#how-it-is-scraped)."""
PROMETHEUS_SERIES = {"up": frozenset()}
"""Series Prometheus makes itself, with their own labels (target labels come on top)."""
SUFFIXES = {
    "Counter": ("_total", "_created"),
    "Gauge": ("",),
    "Histogram": ("_bucket", "_sum", "_count", "_created"),
    "Summary": ("_sum", "_count", "_created"),
}
_GRAFANA_MACROS = {
    "$__rate_interval": "5m",
    "$__interval": "1m",
    "$__range": "1h",
}


@dataclass(frozen=True)
class Declared:
    """A metric a service declares: its kind, name and labels."""

    kind: str
    name: str
    labels: frozenset[str]
    where: str

    @property
    def family(self) -> str:
        """The name prometheus_client gives the metric family (a counter's without _total)."""
        return self.name.removesuffix("_total") if self.kind == "Counter" else self.name

    def series(self) -> dict[str, frozenset[str]]:
        """The series names it exposes → their labels."""
        base = self.family
        extra = {"le"} if self.kind == "Histogram" else set()
        return {base + s: self.labels | (extra if s == "_bucket" else set())
                for s in SUFFIXES[self.kind]}  # fmt: skip


@functools.cache
def declared_metrics(source: Path = ROOT / "services") -> tuple[Declared, ...]:
    """Every prometheus_client metric declared with a literal name under ``source``."""
    found = []
    for path in sorted(source.rglob("*.py")):
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            declared = _declaration(node, path)
            if declared is not None:
                found.append(declared)
    return tuple(found)


def _declaration(node: ast.AST, path: Path) -> Declared | None:
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
        return None
    if node.func.id not in SUFFIXES or not node.args:
        return None
    name = node.args[0]
    if not (isinstance(name, ast.Constant) and str(name.value).startswith("driftline_")):
        return None
    labels_node = node.args[2] if len(node.args) > 2 else _keyword(node, "labelnames")
    try:
        labels = ast.literal_eval(labels_node) if labels_node is not None else ()
    except ValueError as exc:  # names in a variable: ask for literal lists, as everywhere else
        raise ValueError(
            f"{path}:{node.lineno}: label names of {name.value} are not a literal"
        ) from exc
    where = f"{path}:{node.lineno}"
    return Declared(node.func.id, str(name.value), frozenset(labels), where)


def _keyword(node: ast.Call, name: str) -> ast.expr | None:
    return next((k.value for k in node.keywords if k.arg == name), None)


@functools.cache
def exported_series() -> dict[str, frozenset[str]]:
    """Series name → labels, over every service (and Prometheus's own ``up``)."""
    series = dict(PROMETHEUS_SERIES)
    for declared in declared_metrics():
        for name, labels in declared.series().items():
            series[name] = series.get(name, frozenset()) | labels
    return series


@dataclass
class Selector:
    """One metric selector in an expression: the name and its label matchers."""

    name: str
    matchers: list[tuple[str, str, str]] = field(default_factory=list)
    """(label, op, value) with op one of = != =~ !~."""


_OPS = {"Equal": "=", "NotEqual": "!=", "Re": "=~", "NotRe": "!~"}
"""promql_parser.MatchOp member name → PromQL operator."""


def selectors(expr: str) -> list[Selector]:
    """The metric selectors of a PromQL expression (raises ValueError when it is invalid)."""
    found: list[Selector] = []

    def visit(node: Any) -> bool:
        if isinstance(node, promql_parser.VectorSelector):
            matchers = [
                (m.name, _OPS[str(m.op).rpartition(".")[2]], m.value)
                for m in node.matchers.matchers
            ]
            name = node.name or next((v for n, _, v in matchers if n == "__name__"), "")
            found.append(Selector(name, [m for m in matchers if m[0] != "__name__"]))
        return True

    promql_parser.walk(promql_parser.parse(expr), visit)
    return found


def with_grafana_variables(expr: str) -> str:
    """A dashboard expression with Grafana's macros and variables made plain PromQL."""
    for macro, value in _GRAFANA_MACROS.items():
        expr = expr.replace(macro, value)
    return re.sub(r"\$\{?(\w+)\}?", ".*", expr)  # a variable's "All" (they sit in =~)


_LABEL_VALUES = re.compile(r"^\s*label_values\((?:(?P<selector>.+),\s*)?(?P<label>\w+)\)\s*$")


def variable_selector(query: str) -> str | None:
    """The series selector of a ``label_values(selector, label)`` variable query, if any."""
    match = _LABEL_VALUES.match(query)
    return match.group("selector") if match else None


def dashboards() -> dict[str, dict[str, Any]]:
    """File name → parsed dashboard JSON."""
    return {p.name: json.loads(p.read_text()) for p in sorted(DASHBOARDS.glob("*.json"))}


def panels(board: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every panel, rows' nested panels included."""
    for panel in board.get("panels", []):
        yield panel
        yield from panel.get("panels", [])


def dashboard_expressions() -> Iterator[tuple[str, str]]:
    """(where, PromQL) for every panel target and variable query of every dashboard."""
    for file, board in dashboards().items():
        for panel in panels(board):
            for target in panel.get("targets", []):
                where = f"{file}: panel {panel.get('title')!r} target {target.get('refId')}"
                yield where, with_grafana_variables(target["expr"])
        for variable in board.get("templating", {}).get("list", []):
            if variable.get("type") != "query":
                continue
            query = variable["query"]
            text = query["query"] if isinstance(query, dict) else query
            selector = variable_selector(text)
            assert selector is not None, f"{file}: variable {variable['name']} is not label_values"
            yield f"{file}: variable {variable['name']}", with_grafana_variables(selector)


def rules() -> list[dict[str, Any]]:
    """Every rule of the alert rules file."""
    return [
        rule for group in yaml.safe_load(RULES.read_text())["groups"] for rule in group["rules"]
    ]


def rule_expressions() -> Iterator[tuple[str, str]]:
    """(where, PromQL) for every rule."""
    for rule in rules():
        yield f"rule {rule.get('alert') or rule.get('record')}", rule["expr"]
