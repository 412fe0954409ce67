"""k8s/: every overlay rendered by kustomize (built by the project) and validated offline
against Kubernetes's schemas (kubernetes-validate, strict), and what the manifests must
agree on with the code: commands, SMATI_* settings, partitions, shutdown."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml
from deployment import help_fails, smati_variables, unknown_variables
from mode import Service

from services.go_tools import KUSTOMIZE
from services.npm import NpmPackages, need_program

K8S = Path(__file__).parent.parent / "k8s"
OVERLAYS = sorted(p.name for p in (K8S / "overlays").iterdir())
#: Operators' resources, unknown to kubernetes-validate; KEDA's and the Prometheus
#: Operator's are checked against their CRD schemas as @kubernetes-models (npm) ships them,
#: Strimzi's and CloudNativePG's against nothing (no registry reached here ships theirs).
CUSTOM_KINDS = {"ScaledObject", "ServiceMonitor"}
CRD_SCHEMAS = NpmPackages(
    Path(__file__).parent / "crd_schemas",
    ("package.json", "package-lock.json", "validate.mjs"),
    "the CRD schemas of KEDA and the Prometheus Operator",
    "crd-schemas",
)
OPERATOR_KINDS = CUSTOM_KINDS | {"Kafka", "KafkaNodePool", "KafkaTopic", "Cluster"}

Resource = dict[str, Any]


@pytest.fixture(scope="module", params=OVERLAYS)
def rendered(request: pytest.FixtureRequest) -> tuple[str, list[Resource]]:
    overlay = K8S / "overlays" / request.param
    result = subprocess.run(
        [str(KUSTOMIZE.ensure()), "build", str(overlay)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return request.param, [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def _of_kind(resources: list[Resource], kind: str) -> list[Resource]:
    return [r for r in resources if r["kind"] == kind]


def _pod_specs(resources: list[Resource]) -> Iterator[Resource]:
    for resource in resources:
        if resource["kind"] == "Deployment":
            yield resource["spec"]["template"]["spec"]
        elif resource["kind"] == "CronJob":
            yield resource["spec"]["jobTemplate"]["spec"]["template"]["spec"]


def _containers(resources: list[Resource]) -> Iterator[Resource]:
    for pod in _pod_specs(resources):
        yield from pod.get("initContainers", [])
        yield from pod["containers"]


def test_every_resource_validates_against_kubernetes_schemas(
    rendered: tuple[str, list[Resource]],
) -> None:
    name, resources = rendered
    version = kubernetes_validate.latest_version()
    unvalidated = set()
    for resource in resources:
        try:
            kubernetes_validate.validate(resource, version, strict=True)
        except kubernetes_validate.SchemaNotFoundError:
            unvalidated.add(resource["kind"])
    expected = OPERATOR_KINDS if name == "operators-example" else CUSTOM_KINDS
    assert unvalidated == expected


def test_keda_and_prometheus_operator_resources_follow_their_crd_schemas(
    rendered: tuple[str, list[Resource]],
) -> None:
    _, resources = rendered
    node = need_program("node", "is needed for the CRD schemas' check")
    script = CRD_SCHEMAS.ensure() / "validate.mjs"
    result = subprocess.run(
        [node, str(script)], input=json.dumps(resources), capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["errors"] == []
    assert sorted(report["validated"]) == sorted(CUSTOM_KINDS)


def test_workers_scale_on_lag_within_the_raw_partitions(
    rendered: tuple[str, list[Resource]],
) -> None:
    _, resources = rendered
    config = _config(resources)
    (scaled,) = _of_kind(resources, "ScaledObject")
    (trigger,) = scaled["spec"]["triggers"]
    partitions = [int(config["SMATI_TOPIC_PARTITIONS"])]
    raw_topic = f"{config['SMATI_TOPIC_PREFIX']}.raw"
    partitions += [
        t["spec"]["partitions"]
        for t in _of_kind(resources, "KafkaTopic")
        if t["spec"]["topicName"] == raw_topic
    ]
    assert scaled["spec"]["scaleTargetRef"]["name"] == "smati-worker"
    assert 1 <= scaled["spec"]["maxReplicaCount"] <= min(partitions)
    assert trigger["type"] == "kafka"
    assert trigger["metadata"]["topic"] == raw_topic
    assert trigger["metadata"]["consumerGroup"] == config["SMATI_APP_ID"]
    assert trigger["metadata"]["allowIdleConsumers"] == "false"
    assert trigger["metadata"]["bootstrapServers"].startswith(
        config["SMATI_KAFKA_BOOTSTRAP"].split(":")[0]
    )


def test_a_worker_has_the_time_to_commit_before_it_is_killed(
    rendered: tuple[str, list[Resource]],
) -> None:
    _, resources = rendered
    (worker,) = [
        d for d in _of_kind(resources, "Deployment") if d["metadata"]["name"] == "smati-worker"
    ]
    grace = worker["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]
    assert grace > Service.shutdown_timeout  # Faust's (mode's) limit on its shutdown


def test_every_container_runs_a_smati_command(rendered: tuple[str, list[Resource]]) -> None:
    _, resources = rendered
    failures = [help_fails(c["args"]) for c in _containers(resources)]
    assert [f for f in failures if f] == []


def test_probes_use_the_ports_the_containers_declare(
    rendered: tuple[str, list[Resource]],
) -> None:
    _, resources = rendered
    for container in _containers(resources):
        ports = {p["name"] for p in container.get("ports", [])}
        for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
            if probe in container:
                assert container[probe]["httpGet"]["port"] in ports, (container["name"], probe)


def test_settings_are_smati_variables_and_no_secret_is_committed(
    rendered: tuple[str, list[Resource]],
) -> None:
    _, resources = rendered
    assert _of_kind(resources, "Secret") == []
    used = smati_variables(yaml.safe_dump_all(resources))
    assert "SMATI_KAFKA_BOOTSTRAP" in used
    assert unknown_variables(used) == set()


def test_every_deployment_has_probes_and_a_disruption_budget_or_one_replica(
    rendered: tuple[str, list[Resource]],
) -> None:
    _, resources = rendered
    budgets = {
        p["spec"]["selector"]["matchLabels"]["app.kubernetes.io/name"]
        for p in _of_kind(resources, "PodDisruptionBudget")
    }
    for deployment in _of_kind(resources, "Deployment"):
        name = deployment["metadata"]["name"]
        (container,) = deployment["spec"]["template"]["spec"]["containers"]
        assert "livenessProbe" in container, name
        single = deployment["spec"].get("strategy", {}).get("type") == "Recreate"
        assert single or name in budgets, name


def _config(resources: list[Resource]) -> dict[str, str]:
    (config,) = [
        c for c in _of_kind(resources, "ConfigMap") if c["metadata"]["name"] == "smati-config"
    ]
    data: dict[str, str] = config["data"]
    return data
