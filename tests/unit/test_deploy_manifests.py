"""The Helm chart (deploy/helm/driftline) renders with real Helm into valid Kubernetes objects
that agree with the code: services, ports, probes, settings, secrets, migrations and topics.

Helm's Go engine comes from the ``helm-python-sdk`` wheel (``helm_python``); it runs in a child
process so its Go runtime stays out of pytest. Objects are schema-checked with
``kubernetes-validate`` (strict: unknown fields fail).
"""

from __future__ import annotations

import copy
import json
import os
import re
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import typer
import yaml
from pydantic import BaseModel, SecretStr

from driftline.cli.main import app
from driftline.runtime.app import load_definition
from driftline.runtime.services import SERVICE_NAMES, SERVICE_PORTS
from driftline.runtime.settings import RuntimeSettings
from driftline_contracts.origin import SIGNED_BY
from driftline_contracts.topics import all_topics

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "deploy" / "helm" / "driftline"
TEST_VALUES = yaml.safe_load((CHART / "ci" / "test-values.yaml").read_text())
KUBE_VERSION = "1.30.0"
Doc = dict[str, Any]

_RENDER = """
import json, sys
import helm_python as helm
request = json.load(sys.stdin)
try:
    with helm.Chart.load(request["chart"]) as chart:
        out = chart.render(request["values"], name="dl", namespace="ml")
    lint = helm.lint(request["chart"], request["values"], strict=True)
except helm.HelmError as exc:
    sys.exit(f"render failed: {exc}")
json.dump({"manifests": out, "lint": lint}, sys.stdout)
"""


def merged(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """``base`` with ``extra`` merged in, recursively (what ``helm -f a -f b`` does)."""
    out = copy.deepcopy(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merged(out[key], value)
        else:
            out[key] = value
    return out


def helm(values: dict[str, Any]) -> subprocess.CompletedProcess[str]:
    """Render and lint the chart with ``values`` in a child process."""
    request = json.dumps({"chart": str(CHART), "values": values})
    return subprocess.run(
        [sys.executable, "-c", _RENDER],
        input=request,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def render(extra: dict[str, Any] | None = None) -> list[Doc]:
    """Every object the chart renders with the test values plus ``extra``."""
    result = helm(merged(TEST_VALUES, extra or {}))
    assert result.returncode == 0, result.stderr
    manifests = json.loads(result.stdout)["manifests"]
    return [
        doc
        for path, text in sorted(manifests.items())
        if not path.endswith("NOTES.txt")
        for doc in yaml.safe_load_all(text)
        if doc
    ]


def of_kind(docs: list[Doc], kind: str) -> dict[str, Doc]:
    return {d["metadata"]["name"]: d for d in docs if d["kind"] == kind}


def by_component(docs: list[Doc], kind: str) -> dict[str, Doc]:
    return {
        d["metadata"]["labels"]["app.kubernetes.io/component"]: d
        for d in of_kind(docs, kind).values()
    }


def container(deployment: Doc) -> Doc:
    (main,) = deployment["spec"]["template"]["spec"]["containers"]
    return main


def is_setting(variable: str, service: str | None = None) -> bool:
    """Whether ``DRIFTLINE_A__B`` names a field of the settings tree (a service's own, if given)."""
    classes = (
        [load_definition(service).settings_cls]
        if service
        else [RuntimeSettings, *(load_definition(s).settings_cls for s in SERVICE_NAMES)]
    )
    return any(_field(cls, variable.removeprefix("DRIFTLINE_")) is not None for cls in classes)


def _field(model: type[BaseModel], path: str) -> Any:
    *sections, leaf = path.lower().split("__")
    for name in sections:
        info = model.model_fields.get(name)
        sub = info.default_factory() if info and info.default_factory else None  # type: ignore[call-arg]
        if not isinstance(sub, BaseModel):
            return None
        model = type(sub)
    return model.model_fields.get(leaf)


@pytest.fixture(scope="module")
def docs() -> list[Doc]:
    return render()


@pytest.fixture(scope="module")
def deployments(docs: list[Doc]) -> dict[str, Doc]:
    return by_component(docs, "Deployment")


def test_chart_lints_clean_and_matches_the_project_version() -> None:
    result = helm(TEST_VALUES)
    assert result.returncode == 0, result.stderr
    lint = json.loads(result.stdout)["lint"]
    assert lint["errors"] == []
    assert [m for m in lint["messages"] if m["severity"] >= 2] == []
    chart = yaml.safe_load((CHART / "Chart.yaml").read_text())
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert chart["appVersion"] == project["version"]


@pytest.mark.parametrize("mode", ["job", "strimzi"])
def test_every_object_is_valid_kubernetes(mode: str) -> None:
    docs = render({"topics": {"create": mode}})
    builtin = [
        d for d in docs if "." not in d["apiVersion"].split("/")[0] or "k8s.io" in d["apiVersion"]
    ]
    assert {d["kind"] for d in builtin} >= {"Deployment", "Service", "ConfigMap", "Secret"}
    for doc in builtin:
        kubernetes_validate.validate(doc, KUBE_VERSION, strict=True)


def test_one_deployment_and_service_per_service_on_its_port(
    docs: list[Doc], deployments: dict[str, Doc]
) -> None:
    services = by_component(docs, "Service")
    assert set(deployments) == set(services) == set(SERVICE_NAMES)
    assert "serve" in typer.main.get_command(app).commands  # type: ignore[attr-defined]
    for name, deployment in deployments.items():
        main = container(deployment)
        assert main["args"] == ["serve", name]
        assert main["ports"] == [
            {"name": "http", "containerPort": SERVICE_PORTS[name], "protocol": "TCP"}
        ]
        (port,) = services[name]["spec"]["ports"]
        assert (port["port"], port["targetPort"]) == (SERVICE_PORTS[name], "http")
        assert services[name]["spec"]["selector"] == deployment["spec"]["selector"]["matchLabels"]
        assert (
            deployment["spec"]["template"]["metadata"]["labels"].items()
            >= services[name]["spec"]["selector"].items()
        )


def test_probes_hit_readyz_and_healthz_on_the_service_port(deployments: dict[str, Doc]) -> None:
    for deployment in deployments.values():
        main = container(deployment)
        assert main["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
        assert main["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
        assert main["startupProbe"]["httpGet"]["path"] == "/healthz"


def pod_env(docs: list[Doc], deployment: Doc) -> dict[str, str]:
    """The environment Kubernetes gives the main container: envFrom, then env on top."""
    configmaps, secrets = of_kind(docs, "ConfigMap"), of_kind(docs, "Secret")
    main = container(deployment)
    env: dict[str, str] = {}
    for source in main["envFrom"]:
        ref = source.get("configMapRef") or source["secretRef"]
        found = configmaps.get(ref["name"]) or secrets[ref["name"]]
        env |= found.get("data") or found["stringData"]
    for item in main["env"]:
        if "valueFrom" in item:
            key = item["valueFrom"]["secretKeyRef"]
            stored = secrets[key["name"]]["stringData"]
            if key.get("optional") and key["key"] not in stored:
                continue  # Kubernetes leaves the variable unset
            env[item["name"]] = stored[key["key"]]
        else:
            env[item["name"]] = item["value"]
    return env


def parsed(name: str, env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Any:
    """The service's settings as its process would read them from ``env``."""
    with monkeypatch.context() as patch:
        for key, value in env.items():
            patch.setenv(key, value)
        return load_definition(name).settings_cls(_env_file=None)  # type: ignore[call-arg]


def test_settings_from_configmap_and_secrets_parse_to_the_service_binding(
    docs: list[Doc], deployments: dict[str, Doc], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, deployment in deployments.items():
        env = pod_env(docs, deployment)
        settings = parsed(name, env, monkeypatch)
        assert (settings.section(name).host, settings.section(name).port) == (
            "0.0.0.0",
            SERVICE_PORTS[name],
        )
        assert settings.database.url == TEST_VALUES["secrets"]["env"]["DRIFTLINE_DATABASE__URL"]
        assert settings.storage.secret_key.get_secret_value() == "test-secret"
        assert settings.kafka.idempotent_producer is True
        assert [n for n in env if n.startswith("DRIFTLINE_") and not is_setting(n, name)] == []


def test_configmap_holds_only_real_non_secret_settings(docs: list[Doc]) -> None:
    (configmap,) = of_kind(docs, "ConfigMap").values()
    unknown = [key for key in configmap["data"] if not is_setting(key)]
    assert unknown == [], "not Driftline settings"
    for key in configmap["data"]:
        info = _field(RuntimeSettings, key.removeprefix("DRIFTLINE_"))
        assert SecretStr not in getattr(info.annotation, "__args__", (info.annotation,)), key
    assert "DRIFTLINE_DATABASE__URL" not in configmap["data"]  # it carries the password
    secret_env = of_kind(docs, "Secret")["dl-driftline-env"]["stringData"]
    assert [k for k in secret_env if not is_setting(k)] == []


def test_the_audit_digest_key_reaches_only_the_audit_service(deployments: dict[str, Doc]) -> None:
    holders = {
        name
        for name, d in deployments.items()
        if any(e["name"] == "DRIFTLINE_AUDIT__DIGEST_KEY" for e in container(d)["env"])
    }
    assert holders == {"audit"}
    assert is_setting("DRIFTLINE_AUDIT__DIGEST_KEY", "audit")


def test_each_service_gets_its_own_signing_key_and_every_public_key(
    docs: list[Doc], deployments: dict[str, Doc], monkeypatch: pytest.MonkeyPatch
) -> None:
    from driftline.runtime.event_origin import event_origin
    from driftline_contracts.catalog import EVENTS

    for name, deployment in deployments.items():
        refs = {e["name"]: e["valueFrom"]["secretKeyRef"] for e in container(deployment)["env"]
                if "valueFrom" in e}  # fmt: skip
        assert refs["DRIFTLINE_SIGNING__KEY"] == {
            "name": "dl-driftline-signing", "key": f"{name}-key", "optional": True
        }  # fmt: skip
        assert refs["DRIFTLINE_SIGNING__PUBLIC_KEYS"]["key"] == "public-keys"
        settings = parsed(name, pod_env(docs, deployment), monkeypatch)
        consumed = [t.ce_type for t in EVENTS]  # the most any service checks: all of them
        event_origin(settings.signing, name, consumed).require()  # it would start


@pytest.mark.parametrize("signer", sorted(set(SIGNED_BY.values())))
def test_missing_signing_keys_fail_the_render_by_name(signer: str) -> None:
    keys = TEST_VALUES["secrets"]["signing"]["keys"]
    values = merged(TEST_VALUES, {})
    values["secrets"]["signing"]["keys"] = {k: v for k, v in keys.items() if k != signer}
    result = helm(values)
    assert result.returncode != 0
    assert f"secrets.signing.keys.{signer}" in result.stderr


def test_the_audit_sink_can_write_as_its_append_only_role(monkeypatch: pytest.MonkeyPatch) -> None:
    writer = "postgresql+asyncpg://driftline_audit:w@postgres:5432/driftline"
    docs = render({"secrets": {"auditWriter": {"enabled": True, "databaseUrl": writer}}})
    deployments = by_component(docs, "Deployment")
    audit = parsed("audit", pod_env(docs, deployments["audit"]), monkeypatch)
    owner = TEST_VALUES["secrets"]["env"]["DRIFTLINE_DATABASE__URL"]
    assert (audit.database.url, audit.database.migration_url) == (writer, owner)
    assert (
        parsed("registry", pod_env(docs, deployments["registry"]), monkeypatch).database.url
        == owner
    )


def test_pods_run_as_the_image_user_with_a_read_only_root(docs: list[Doc]) -> None:
    uid = int(re.search(r"--uid (\d+)", (ROOT / "deploy" / "Dockerfile").read_text()).group(1))  # type: ignore[union-attr]
    pods = [d["spec"]["template"]["spec"] for d in docs if d["kind"] in ("Deployment", "Job")]
    assert len(pods) == len(SERVICE_NAMES) + 1
    for pod in pods:
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["automountServiceAccountToken"] is False
        for box in pod["containers"] + pod.get("initContainers", []):
            context = box["securityContext"]
            assert context["readOnlyRootFilesystem"] is True
            assert context["allowPrivilegeEscalation"] is False
            assert context["capabilities"]["drop"] == ["ALL"]
            mounts = {m["mountPath"]: m["name"] for m in box["volumeMounts"]}
            volumes = {v["name"]: v for v in pod["volumes"]}
            assert "emptyDir" in volumes[mounts["/tmp"]], "writable scratch space"
    service_pods = [d["spec"]["template"]["spec"] for d in docs if d["kind"] == "Deployment"]
    assert {p["securityContext"]["runAsUser"] for p in service_pods} == {uid}


def test_each_pod_migrates_its_own_schema_first(deployments: dict[str, Doc]) -> None:
    assert "migrate" in typer.main.get_command(app).commands  # type: ignore[attr-defined]
    for name, deployment in deployments.items():
        (init,) = deployment["spec"]["template"]["spec"]["initContainers"]
        assert init["args"] == ["migrate", name]
        assert init["envFrom"] == container(deployment)["envFrom"]


def topic_partitions(docs: list[Doc]) -> dict[str, int]:
    """topic → partitions, from the topics Job's TOPICS variable."""
    (job,) = of_kind(docs, "Job").values()
    env = {
        e["name"]: e.get("value") for e in job["spec"]["template"]["spec"]["containers"][0]["env"]
    }
    pairs = [line.rsplit(":", 1) for line in env["TOPICS"].split()]
    return {topic: int(count) for topic, count in pairs}


def test_topics_job_creates_every_topic_before_the_services(docs: list[Doc]) -> None:
    partitions = topic_partitions(docs)
    expected = "\n".join(f"    - {t}" for t in all_topics())
    assert tuple(partitions) == all_topics(), f"stale topic list; set topics.names to:\n{expected}"
    (job,) = of_kind(docs, "Job").values()
    assert job["metadata"]["annotations"]["helm.sh/hook"] == "pre-install,pre-upgrade"


def test_every_topic_has_a_partition_for_each_consumer_replica(
    docs: list[Doc], deployments: dict[str, Doc]
) -> None:
    partitions = topic_partitions(docs)
    for name, deployment in deployments.items():
        for subscription in load_definition(name).subscriptions(None):  # type: ignore[arg-type]
            assert partitions[subscription.source_topic] >= deployment["spec"]["replicas"], (
                f"{name} replicas would idle on {subscription.source_topic}"
            )


def test_replicas_and_partitions_are_values(docs: list[Doc]) -> None:
    scaled = render(
        {
            "services": {"training": {"replicas": 6}},
            "topics": {"partitions": 6, "partitionsByTopic": {"driftline.data-validated": 24}},
        }
    )
    assert by_component(scaled, "Deployment")["training"]["spec"]["replicas"] == 6
    assert by_component(scaled, "Deployment")["ingest"]["spec"]["replicas"] == 2
    partitions = topic_partitions(scaled)
    assert partitions.pop("driftline.data-validated") == 24
    assert set(partitions.values()) == {6}
    assert (
        of_kind(scaled, "ConfigMap")["dl-driftline-config"]["data"]["DRIFTLINE_KAFKA__PARTITIONS"]
        == "6"
    )


def test_strimzi_mode_declares_a_kafka_topic_per_topic() -> None:
    docs = render({"topics": {"create": "strimzi", "partitionsByTopic": {"driftline.audit": 3}}})
    assert of_kind(docs, "Job") == {}
    topics = {d["spec"]["topicName"]: d for d in docs if d["kind"] == "KafkaTopic"}
    assert tuple(topics) == tuple(sorted(all_topics(), key=list(all_topics()).index))
    assert topics["driftline.audit"]["spec"]["partitions"] == 3
    assert topics["driftline.data-arrived"]["spec"]["partitions"] == 12
    assert {t["metadata"]["labels"]["strimzi.io/cluster"] for t in topics.values()} == {
        "my-cluster"
    }


def test_existing_secrets_are_referenced_not_created() -> None:
    docs = render(
        {
            "secrets": {
                "existingSecret": "prod-env",
                "existingAuditSecret": "prod-audit",
                "existingSigningSecret": "prod-signing",
                "env": {"DRIFTLINE_DATABASE__URL": ""},
                "auditDigestKey": "",
                "signing": {"publicKeys": "", "keys": {}},
            },
        }
    )
    assert of_kind(docs, "Secret") == {}
    for deployment in by_component(docs, "Deployment").values():
        assert {"secretRef": {"name": "prod-env"}} in container(deployment)["envFrom"]
    audit_env = container(by_component(docs, "Deployment")["audit"])["env"]
    assert {
        "name": "DRIFTLINE_AUDIT__DIGEST_KEY",
        "valueFrom": {"secretKeyRef": {"name": "prod-audit", "key": "digest-key"}},
    } in audit_env
    registry_env = container(by_component(docs, "Deployment")["registry"])["env"]
    assert {
        "name": "DRIFTLINE_SIGNING__KEY",
        "valueFrom": {
            "secretKeyRef": {"name": "prod-signing", "key": "registry-key", "optional": True}
        },
    } in registry_env


def test_missing_secrets_fail_the_render_by_name() -> None:
    result = helm({})
    assert result.returncode != 0
    assert "secrets.env.DRIFTLINE_DATABASE__URL" in result.stderr
    no_key = helm(merged(TEST_VALUES, {"secrets": {"auditDigestKey": ""}}))
    assert no_key.returncode != 0
    assert "secrets.auditDigestKey" in no_key.stderr


def test_a_disabled_service_leaves_nothing_behind() -> None:
    docs = render({"services": {"audit": {"enabled": False}}})
    for kind in ("Deployment", "Service", "PodDisruptionBudget"):
        assert "audit" not in by_component(docs, kind)
    assert "dl-driftline-audit" not in of_kind(docs, "Secret")


FAKE_KAFKA_TOPICS = """
import fcntl, json, os, sys
args = sys.argv[1:]
def opt(name):
    return args[args.index(name) + 1] if name in args else None
with open(os.environ["FAKE_STATE"], "r+") as f:
    fcntl.flock(f, fcntl.LOCK_EX)
    state = json.load(f)
    topic, wanted = opt("--topic"), opt("--partitions")
    assert opt("--bootstrap-server") == "kafka:9092", args
    if "--describe" in args:
        for name, count in state["topics"].items():
            print(f"Topic: {name}\\tTopicId: x\\tPartitionCount: {count}\\tConfigs: ")
            print(f"\\tTopic: {name}\\tPartition: 0\\tLeader: 1\\tReplicas: 1\\tIsr: 1")
    elif topic in state["broken"]:
        sys.exit(1)
    elif "--create" in args:
        state["topics"].setdefault(topic, int(wanted))
        config = args[args.index("--config") + 1] if "--config" in args else None
        state["created"].append([topic, opt("--replication-factor"), config])
    elif "--alter" in args:
        state["topics"][topic] = int(wanted)
        state["raised"].append(topic)
    f.seek(0); f.truncate(); json.dump(state, f)
"""


def run_topics_job(
    tmp_path: Path, docs: list[Doc], existing: dict[str, int], broken: list[str]
) -> tuple[int, dict[str, Any], str]:
    """Run the Job's shell script against a fake ``kafka-topics.sh`` keeping state in a file."""
    (job,) = of_kind(docs, "Job").values()
    (box,) = job["spec"]["template"]["spec"]["containers"]
    state = tmp_path / "state.json"
    state.write_text(
        json.dumps({"topics": existing, "broken": broken, "created": [], "raised": []})
    )
    fake = tmp_path / "kafka-topics.sh"
    fake.write_text(f"#!{sys.executable}\n{textwrap.dedent(FAKE_KAFKA_TOPICS)}")
    fake.chmod(0o755)
    env = {e["name"]: e["value"] for e in box["env"]}
    env |= {"KAFKA_TOPICS_SH": str(fake), "FAKE_STATE": str(state), "PATH": os.environ["PATH"]}
    result = subprocess.run(
        [*box["command"], *box["args"]],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return result.returncode, json.loads(state.read_text()), result.stdout + result.stderr


def test_topics_job_creates_missing_topics_and_only_raises_partitions(tmp_path: Path) -> None:
    docs = render({"topics": {"replicationFactor": 1, "config": {"min.insync.replicas": "1"}}})
    existing = {"driftline.audit": 4, "driftline.data-arrived": 20, "unrelated": 1}
    code, state, output = run_topics_job(tmp_path, docs, existing, broken=[])
    assert code == 0, output
    assert state["topics"] == {
        **dict.fromkeys(all_topics(), 12),
        "driftline.data-arrived": 20,
        "unrelated": 1,
    }
    assert state["raised"] == ["driftline.audit"]
    assert len(state["created"]) == len(all_topics()) - 2
    assert {(rf, config) for _, rf, config in state["created"]} == {("1", "min.insync.replicas=1")}
    again, state, _ = run_topics_job(tmp_path, docs, state["topics"], broken=[])
    assert again == 0
    assert state["created"] == state["raised"] == []


def test_topics_job_fails_when_a_topic_could_not_be_created(
    tmp_path: Path, docs: list[Doc]
) -> None:
    code, _, output = run_topics_job(tmp_path, docs, {}, broken=["driftline.model-trained.dlq"])
    assert code != 0
    assert "driftline.model-trained.dlq" in output


def test_the_audit_schema_can_have_an_owner_of_its_own(monkeypatch: pytest.MonkeyPatch) -> None:
    writer = "postgresql+asyncpg://driftline_audit:w@postgres:5432/driftline"
    owner = "postgresql+asyncpg://driftline_audit_owner:o@postgres:5432/driftline"
    audit_writer = {"enabled": True, "databaseUrl": writer, "separateOwner": True}
    docs = render({"secrets": {"auditWriter": {**audit_writer, "ownerDatabaseUrl": owner}}})
    deployments = by_component(docs, "Deployment")
    audit = parsed("audit", pod_env(docs, deployments["audit"]), monkeypatch)
    assert (audit.database.url, audit.database.migration_url) == (writer, owner)
    secrets = of_kind(docs, "Secret")
    for name, deployment in deployments.items():
        spec = deployment["spec"]["template"]["spec"]
        (migrate,) = spec.get("initContainers") or [{"env": []}]
        found = {e["name"]: e["valueFrom"]["secretKeyRef"] for e in migrate.get("env", [])}
        if name == "audit":
            ref = found["DRIFTLINE_DATABASE__URL"]
            assert secrets[ref["name"]]["stringData"][ref["key"]] == owner
        else:  # every other service migrates and runs as the shared role, never the owner
            assert "DRIFTLINE_DATABASE__URL" not in found
            assert owner not in pod_env(docs, deployment).values()
    missing = helm(merged(TEST_VALUES, {"secrets": {"auditWriter": audit_writer}}))
    assert missing.returncode != 0
    assert "secrets.auditWriter.ownerDatabaseUrl" in missing.stderr


def test_deployment_scales_on_its_request_rate_when_autoscaling_is_on() -> None:
    values = {"services": {"deployment": {"autoscaling": {"enabled": True, "maxReplicas": 9}}}}
    docs = render(values)
    (hpa,) = of_kind(docs, "HorizontalPodAutoscaler").values()
    kubernetes_validate.validate(hpa, KUBE_VERSION, strict=True)
    assert hpa["spec"]["scaleTargetRef"]["name"] == "dl-driftline-deployment"
    assert hpa["spec"]["maxReplicas"] == 9
    (metric,) = hpa["spec"]["metrics"]
    assert metric["pods"]["metric"]["name"] == "driftline_served_requests_per_second"
    scaled = by_component(docs, "Deployment")
    assert "replicas" not in scaled["deployment"]["spec"]  # the HPA owns the count
    assert scaled["monitoring"]["spec"]["replicas"] == 2
    assert of_kind(render(), "HorizontalPodAutoscaler") == {}
