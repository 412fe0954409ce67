"""`smati services up`: the services an operator can try SMATI on, until SIGTERM."""

from __future__ import annotations

import os
import shlex
from pathlib import Path

import httpx
import psycopg
import pytest
from confluent_kafka.admin import AdminClient
from psycopg.conninfo import conninfo_to_dict

from services.mqtt import mqtt_answers
from services.ports import port_is_open
from services.processes import RoleProcess

pytestmark = pytest.mark.integration


def exported(log: str) -> dict[str, str]:
    """The `export NAME=VALUE` lines of the command's output."""
    pairs = (shlex.split(line.removeprefix("export "))[0] for line in log.splitlines())
    return dict(pair.split("=", 1) for pair in pairs if pair.startswith("SMATI_"))


def test_services_up_serves_until_sigterm_then_frees_the_ports(tmp_path: Path) -> None:
    up = RoleProcess(
        ["services", "up", "--broker", "apache"], dict(os.environ), tmp_path / "up.log"
    )
    try:
        up.wait_for_line("export SMATI_ALERTMANAGER_URL=", timeout=120)
        env = exported(up.log())
        assert set(env) == {
            "SMATI_KAFKA_BOOTSTRAP",
            "SMATI_DATABASE_URL",
            "SMATI_MQTT_URL",
            "SMATI_ALERTMANAGER_URL",
        }
        alertmanager = env["SMATI_ALERTMANAGER_URL"]
        am_host, am_port = alertmanager.removeprefix("http://").rsplit(":", 1)
        assert httpx.get(f"{alertmanager}/-/ready").status_code == 200
        with psycopg.connect(env["SMATI_DATABASE_URL"]) as conn:
            assert conn.execute("SELECT current_database()").fetchone() == ("smati",)
        admin = AdminClient({"bootstrap.servers": env["SMATI_KAFKA_BOOTSTRAP"]})
        assert admin.list_topics(timeout=10).brokers
        mqtt_host, mqtt_port = env["SMATI_MQTT_URL"].removeprefix("mqtt://").rsplit(":", 1)
        assert mqtt_answers(mqtt_host, int(mqtt_port))
    finally:
        code = up.stop(timeout=60)
    assert code == 0, up.log()  # SIGTERM obeyed: stop() kills only after its timeout
    assert "services stopped" in up.log()
    database = conninfo_to_dict(env["SMATI_DATABASE_URL"])
    kafka_host, kafka_port = env["SMATI_KAFKA_BOOTSTRAP"].rsplit(":", 1)
    for host, port in (
        (str(database["host"]), int(str(database["port"]))),
        (kafka_host, int(kafka_port)),
        (mqtt_host, int(mqtt_port)),
        (am_host, int(am_port)),
    ):
        assert not port_is_open(host, port), (host, port)
