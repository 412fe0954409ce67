"""A radio pipeline on the test services, as in production: a worker, an MQTT connector for
The Things Stack and one for ChirpStack, and the webhook server (child processes), with a
client publishing as the network servers' MQTT integrations do and `post` calling the
webhooks as TTS and the Sigfox backend do."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import paho.mqtt.client as mqtt
import psycopg
import pytest
from conditions import wait_for
from conftest import pipeline_settings, prepared_run
from paho.mqtt.enums import CallbackAPIVersion
from status_endpoints import metrics, status_url

from connectors.topics import DEFAULT_TEMPLATES
from models.registry import Registry
from models.settings import Settings
from services import ApacheKafka, MqttBroker, free_port
from services.processes import RoleProcess


@dataclass
class Radio:
    settings: Settings
    run: str
    worker: RoleProcess
    connectors: list[RoleProcess]
    publish: Callable[[str, bytes], None]
    webhooks: str
    mqtt_status: dict[str, str]
    """The URL of each MQTT connector's /health and /metrics, by source (tts, chirpstack)."""

    def confirmed(self, source: str, metric: str) -> float:
        """What the MQTT connector of `source` counts in `metric` (a name, with the labels
        before `source` if any: `name{label=value}`), 0 before its first."""
        name = metric.split("{")[0]
        found = metrics(self.mqtt_status[source], name)
        return found.get(f"{metric}{{source={source}}}", 0.0)

    def wait_until_confirmed(self, source: str, metric: str, count: float) -> None:
        """Until Kafka confirmed `count` records counted in `metric` by the `source` connector."""
        wait_for(lambda: self.confirmed(source, metric), lambda confirmed: confirmed >= count)


def post(
    url: str, body: bytes, secret: str | None, content_type: str = "application/json"
) -> tuple[int, dict[str, Any]]:
    """POST `body` as a network server does; (status, JSON answer)."""
    headers = {"Content-Type": content_type}
    if secret is not None:
        headers["Authorization"] = f"Bearer {secret}"

    async def send() -> tuple[int, dict[str, Any]]:
        async with (
            aiohttp.ClientSession() as session,
            session.post(url, data=body, headers=headers) as response,
        ):
            return response.status, await response.json()

    return asyncio.run(send())


@contextmanager
def radio_run(
    services: tuple[ApacheKafka, MqttBroker, str],
    name: str,
    registry: Registry,
    logs: Path,
    overrides: dict[str, Any],
) -> Iterator[Radio]:
    """The pipeline on `services` (Kafka, Mosquitto, a database URL), in topics of its own,
    with `registry` saved and the settings `overrides`; stopped on exit."""
    kafka_broker, mqtt_broker, database = services
    run = uuid.uuid4().hex[:8]
    overrides = pipeline_settings(kafka_broker, mqtt_broker, database, name, run) | {
        "webhook_port": free_port(),
        **overrides,
    }
    settings, env = prepared_run(overrides, database, registry)
    worker = RoleProcess(["worker"], env, logs / "worker.log")
    sources = {source: DEFAULT_TEMPLATES[source] for source in ("tts", "chirpstack")}
    connectors = {
        source: RoleProcess(
            ["connector", "mqtt", "--source", source, "--topic", template],
            {**env, "SMATI_MQTT_CLIENT_ID": f"{source}-{run}"},
            logs / f"{source}.log",
        )
        for source, template in sources.items()
    }
    webhooks = RoleProcess(["connector", "webhooks"], env, logs / "webhooks.log")
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"network-servers-{run}")
    assert mqtt_broker.port is not None
    client.connect(mqtt_broker.host, mqtt_broker.port)
    client.loop_start()

    def publish(topic: str, payload: bytes) -> None:
        client.publish(topic, payload, qos=1).wait_for_publish(timeout=10)

    try:
        for bridge in connectors.values():
            bridge.wait_for_line("subscribed to")
        webhooks.wait_for_line("Running on")
        worker.wait_for_line("Ready", timeout=90)
        yield Radio(
            settings,
            run,
            worker,
            [*connectors.values(), webhooks],
            publish,
            f"http://127.0.0.1:{settings.webhook_port}",
            {source: status_url(bridge) for source, bridge in connectors.items()},
        )
    finally:
        client.loop_stop()
        client.disconnect()
        for process in [webhooks, *connectors.values(), worker]:
            process.stop()


def radio_fixture(
    name: str, registry: Callable[[], Registry], overrides: dict[str, Any]
) -> Callable[..., Iterator[Radio]]:
    """A module-scoped `radio` fixture: `radio_run` of `registry()` on the session's services."""

    @pytest.fixture(scope="module")
    def radio(
        kafka_broker: ApacheKafka,
        mqtt_broker: MqttBroker,
        database: str,
        tmp_path_factory: pytest.TempPathFactory,
    ) -> Iterator[Radio]:
        services = (kafka_broker, mqtt_broker, database)
        logs = tmp_path_factory.mktemp(f"{name}-logs")
        with radio_run(services, name, registry(), logs, overrides) as run:
            yield run

    return radio


def rows(database: str, query: str, *params: object) -> list[tuple[Any, ...]]:
    with psycopg.connect(database) as conn:
        return conn.execute(query, params).fetchall()
