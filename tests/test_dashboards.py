"""Issue 23, items 1 and 4: every process's metrics, and the dashboards answering.

A real Prometheus (Debian's) scrapes a real worker, the MQTT connector, the webhooks
connector and the API (`smati serve`) while the demo building flows through the pipeline,
with the platform's rules loaded; every PromQL panel of the pipeline dashboard must give
data through its HTTP API, every SQL panel of the buildings dashboard must give rows on
the database the worker wrote, and each process's /metrics must pass `promtool check
metrics`. The generated files must be what the code generates.
"""

from __future__ import annotations

import math
import shutil
import subprocess
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from alarm_rows import insert_alarm
from click.testing import CliRunner
from conditions import wait_for
from conftest import device_publisher, pipeline_settings, prepared_run
from grafana_queries import GRAFANA, panel_queries, promql, sql, variable_queries

from dashboards.build import stale
from models.alerting import alertmanager_config
from models.registry import Registry
from services import ApacheKafka, MqttBroker, PrometheusServer, free_port
from services.alertmanager import Alertmanager
from services.processes import RoleProcess
from smati.cli import main as smati
from smati.demo import demo_registry
from smati.simulator import bad_messages, building_messages

pytestmark = pytest.mark.integration
RULES = Path(__file__).parent.parent / "prometheus" / "rules.yml"
STEP = timedelta(seconds=5)
STEPS = 60
RATE_INTERVAL = "15m"
"""Grafana's $__rate_interval here: the whole module runs within it after the last uplink,
even on a loaded machine (2 minutes were not enough there: a rate over no uplink is none)."""


@dataclass
class Observed:
    prometheus: PrometheusServer
    endpoints: dict[str, str]
    """Base URL of each process, by Prometheus job."""
    database: str


@pytest.fixture(scope="module")
def observed(
    kafka_broker: ApacheKafka,
    mqtt_broker: MqttBroker,
    database: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Observed]:
    run = uuid.uuid4().hex[:8]
    logs_dir = tmp_path_factory.mktemp("dashboard-logs")
    overrides = pipeline_settings(kafka_broker, mqtt_broker, database, "dash", run) | {
        "mqtt_client_id": f"connector-{run}",
        "mqtt_topics": [f"{run}/devices/{{device_id}}/up"],
        "mqtt_web_port": free_port(),
        "webhook_port": free_port(),
        "webhook_secrets": {"acme": "s3cret"},
        "api_port": free_port(),
        "transmission_check_s": 0.5,
    }
    registry = demo_registry()
    notifier_port = free_port()
    with Alertmanager(alertmanager_config(registry)) as alertmanager:
        overrides["alertmanager_url"] = alertmanager.url
        yield from _observe(
            run, overrides, registry, notifier_port, database, mqtt_broker, logs_dir
        )


def _observe(
    run: str,
    overrides: dict[str, Any],
    registry: Registry,
    notifier_port: int,
    database: str,
    mqtt_broker: MqttBroker,
    logs: Path,
) -> Iterator[Observed]:
    """The processes scraped by Prometheus, once the building's uplinks are published."""
    settings, env = prepared_run(overrides, database, registry)
    endpoints = {
        "smati-worker": f"http://127.0.0.1:{settings.web_port}",
        "smati-connector-mqtt": f"http://127.0.0.1:{settings.mqtt_web_port}",
        "smati-connector-webhooks": f"http://127.0.0.1:{settings.webhook_port}",
        "smati-api": f"http://127.0.0.1:{settings.api_port}",
        "smati-notifier": f"http://127.0.0.1:{notifier_port}",
    }
    roles = {
        "worker": ["worker"],
        "mqtt": ["connector", "mqtt"],
        "webhooks": ["connector", "webhooks"],
        "api": ["serve"],
        "notifier": ["alerting", "run", "--metrics-port", str(notifier_port)],
    }
    processes = [RoleProcess(role, env, logs / f"{name}.log") for name, role in roles.items()]
    targets = {job: [url.removeprefix("http://")] for job, url in endpoints.items()}
    try:
        with PrometheusServer(targets, [RULES]) as prometheus:
            processes[0].wait_for_line("Ready", timeout=90)
            processes[1].wait_for_line("subscribed to")
            for job, url in endpoints.items():
                probe = "/metrics" if job == "smati-notifier" else "/live"  # prometheus_client's
                wait_for(partial(_status, f"{url}{probe}"), lambda code: code == 200, 60)
            _publish_the_building(mqtt_broker, run, registry, prometheus)
            refused = httpx.post(f"{endpoints['smati-connector-webhooks']}/tts/acme", json={})
            assert refused.status_code == 401
            with psycopg.connect(database) as conn:
                insert_alarm(conn, "dash-alarm", "hotel-paris.electricity", severity="critical")
            yield Observed(prometheus, endpoints, database)
    finally:
        for process in reversed(processes):
            process.stop()


def _publish_the_building(
    broker: MqttBroker, run: str, building: Registry, prometheus: PrometheusServer
) -> None:
    """STEPS steps of the demo building's devices up to now, and its bad messages: in two
    halves, the second once Prometheus has scraped the first's latencies, so that every
    counter grows between two scrapes (a worker quicker than a scrape interval left the
    latency quantiles without any rate: NaN)."""
    now = datetime.now(UTC).replace(microsecond=0)
    history = building_messages(building, now - STEPS * STEP, STEP)
    count = STEPS * len(building.devices)
    messages = [m for _, (_, m) in zip(range(count), history, strict=False)]
    half = len(messages) // 2
    with device_publisher(broker, run) as publish:
        publish(messages[:half])
        wait_for(lambda: prometheus.query("smati_end_to_end_latency_seconds_count > 0"), bool, 90)
        publish(messages[half:] + bad_messages(building, now))


def _status(url: str) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return None


def test_the_committed_files_are_what_the_code_generates() -> None:
    assert stale(GRAFANA) == [], "run `smati dashboards build`"


def test_a_hand_edited_dashboard_is_found_stale(tmp_path: Path) -> None:
    copy = tmp_path / "grafana"
    shutil.copytree(GRAFANA, copy)
    edited = copy / "dashboards" / "smati-pipeline.json"
    edited.write_text(edited.read_text().replace("SMATI pipeline", "My pipeline"))
    result = CliRunner().invoke(smati, ["dashboards", "check", "--out", str(copy)])
    assert result.exit_code == 1
    assert result.output == (
        f"Error: dashboards/smati-pipeline.json under {copy} differ from the code: run "
        "`smati dashboards build`\n"
    )


def test_every_promql_panel_returns_data(observed: Observed) -> None:
    queries = panel_queries("smati-pipeline", "expr")
    assert len(queries) >= 15

    def empty() -> list[str]:
        return [
            f"{query.panel}: {query.text}"
            for query in queries
            if not _finite(observed.prometheus.query(promql(query.text, RATE_INTERVAL)))
        ]

    wait_for(empty, lambda missing: missing == [], timeout=180, every=2)


def _finite(result: list[dict[str, object]]) -> bool:
    """At least one sample with a number (a quantile of nothing is NaN)."""
    values = [sample["value"] for sample in result]
    return any(math.isfinite(float(value[1])) for value in values if isinstance(value, list))


def test_every_sql_panel_returns_rows_for_the_tenant(observed: Observed) -> None:
    queries = panel_queries("smati-buildings", "rawSql")
    assert len(queries) >= 4
    end = datetime.now(UTC) + timedelta(hours=1)
    variables = {"tenant": "acme", "entity": "hotel-paris"}

    def without_rows() -> list[str]:
        with psycopg.connect(observed.database) as conn:
            return [
                query.panel
                for query in queries
                if not conn.execute(
                    sql(query.text, end - timedelta(days=7), end, variables)
                ).fetchall()
            ]

    wait_for(without_rows, lambda missing: missing == [], timeout=120, every=2)


def test_every_buildings_query_is_of_the_chosen_tenant_only() -> None:
    """Each panel's SQL and the entity list are filtered by the $tenant variable."""
    tenant_list, *per_tenant = variable_queries("smati-buildings")
    assert "FROM tenants" in tenant_list
    queries = [q.text for q in panel_queries("smati-buildings", "rawSql")] + per_tenant
    assert [q for q in queries if "tenant_id = '$tenant'" not in q] == []


@pytest.mark.parametrize(
    "job",
    [
        "smati-worker",
        "smati-connector-mqtt",
        "smati-connector-webhooks",
        "smati-api",
        "smati-notifier",
    ],
)
def test_metrics_are_named_as_prometheus_asks(observed: Observed, job: str) -> None:
    promtool = shutil.which("promtool")
    assert promtool is not None, "promtool missing: run `make setup`"
    with urllib.request.urlopen(f"{observed.endpoints[job]}/metrics", timeout=10) as response:
        text = response.read()
    assert b"smati_" in text
    checked = subprocess.run(
        [promtool, "check", "metrics"], input=text, capture_output=True, timeout=60, check=False
    )
    assert checked.returncode == 0, checked.stdout.decode() + checked.stderr.decode()


@pytest.mark.parametrize(
    "job", ["smati-worker", "smati-connector-mqtt", "smati-connector-webhooks", "smati-api"]
)
def test_every_process_answers_its_probes(observed: Observed, job: str) -> None:
    base = observed.endpoints[job]
    assert _status(f"{base}/live") == 200
    ready = "/health" if job == "smati-api" else "/ready"
    wait_for(lambda: _status(f"{base}{ready}"), lambda status: status == 200, 90)
