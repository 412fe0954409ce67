"""`smati alerting run` as a process: it posts alarms, counts them on /metrics, survives an
Alertmanager that is not there (one line, no traceback), and stops on SIGTERM."""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest
from conditions import wait_for

from models.alerting import alertmanager_config
from models.registry import Registry
from services import free_port
from services.alertmanager import Alertmanager
from services.postgres import PostgresServer
from services.processes import RoleProcess
from services.webhook_receiver import WebhookReceiver
from storage.migrate import migrate
from storage.registry_store import save_registry

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def hooks() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as receiver:
        yield receiver


@pytest.fixture(scope="module")
def registry(database: str, hooks: WebhookReceiver) -> Registry:
    notifications = {
        "receivers": [{"name": "ops", "webhook": {"url": hooks.url("/ops")}}],
        "default_receiver": "ops",
        "group_by": ["alarm_id"],
        "group_wait_s": 0.1,
    }
    registry = Registry.model_validate(
        {"tenants": [{"id": "acme", "notifications": notifications}]}
    )
    with psycopg.connect(database) as conn:
        save_registry(conn, registry)
    return registry


def _notifier(database: str, alertmanager_url: str, log: Path) -> RoleProcess:
    env = {
        **os.environ,
        "SMATI_DATABASE_URL": database,
        "SMATI_ALERTMANAGER_URL": alertmanager_url,
        "SMATI_NOTIFIER_TICK_S": "0.5",
        "SMATI_LOG_FORMAT": "console",
    }
    return RoleProcess(["alerting", "run", "--metrics-port", "0"], env, log)


def _raise(database: str) -> str:
    """An open alarm of tenant acme, inserted as the stream does; its id."""
    alarm_id = uuid.uuid4().hex
    with psycopg.connect(database) as conn:
        conn.execute(
            "INSERT INTO alarms (id, tenant_id, entity_id, equipment_id, usage_id, type, "
            "severity, start_ts, last_seen_ts) "
            "VALUES (%s, 'acme', 'hotel', 'boiler', %s, 'threshold_high', 'major', now(), now())",
            (alarm_id, f"gas-{alarm_id}"),
        )
    return alarm_id


def test_alerting_run_posts_counts_and_stops_on_sigterm(
    database: str, registry: Registry, hooks: WebhookReceiver, tmp_path: Path
) -> None:
    with Alertmanager(alertmanager_config(registry)) as alertmanager:
        notifier = _notifier(database, alertmanager.url, tmp_path / "notifier.log")
        try:
            notifier.wait_for_line("notifier listening on channel alarms")
            alarm_id = _raise(database)
            wait_for(lambda: [r for r in hooks.received("/ops") if alarm_id in str(r.body)], bool)
            port = re.search(r"serving /metrics on port (\d+)", notifier.log())
            assert port is not None
            metrics = httpx.get(f"http://127.0.0.1:{port.group(1)}/metrics").text
            assert 'smati_notifications_alerts_total{state="firing"} 1.0' in metrics
        finally:
            code = notifier.stop()
    assert code == 0, notifier.log()
    assert "notifier stopped" in notifier.log()


def test_an_absent_alertmanager_is_one_line_and_the_notifier_goes_on(
    database: str, registry: Registry, tmp_path: Path
) -> None:
    nobody = f"http://127.0.0.1:{free_port()}"
    notifier = _notifier(database, nobody, tmp_path / "notifier.log")
    try:
        notifier.wait_for_line("notifier listening on channel alarms")
        _raise(database)
        notifier.wait_for_line(f"Alertmanager at {nobody} not reachable (ConnectError")
        notifier.raise_if_dead()
    finally:
        code = notifier.stop()
    assert code == 0
    assert "Traceback" not in notifier.log()


def test_the_notifier_waits_out_a_database_outage(
    registry: Registry, hooks: WebhookReceiver, tmp_path: Path
) -> None:
    with (
        PostgresServer(use_env=False) as postgres,
        Alertmanager(alertmanager_config(registry)) as am,
    ):
        migrate(postgres.url)
        with psycopg.connect(postgres.url) as conn:
            save_registry(conn, registry)
        notifier = _notifier(postgres.url, am.url, tmp_path / "notifier.log")
        try:
            notifier.wait_for_line("notifier listening on channel alarms")
            postgres.interrupt()
            notifier.wait_for_line("notifier lost the database")
            postgres.resume()
            alarm_id = _raise(postgres.url)
            wait_for(lambda: [r for r in hooks.received("/ops") if alarm_id in str(r.body)], bool)
            notifier.raise_if_dead()
        finally:
            code = notifier.stop()
    assert code == 0, notifier.log()
