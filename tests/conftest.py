"""Shared session fixtures: real services started once per test session, always stopped."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import paho.mqtt.client as mqtt
import psycopg
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from psycopg import sql
from psycopg.conninfo import make_conninfo

from models.registry import Registry
from models.settings import Settings
from services import ApacheKafka, MqttBroker, PostgresServer, free_port
from services.processes import settings_env
from smati.simulator import Message
from storage.migrate import migrate
from storage.registry_store import save_registry
from stream.topics import ensure_topics


@pytest.fixture(scope="session")
def kafka_broker() -> Iterator[ApacheKafka]:
    """Apache Kafka single node; ``kafka_broker.bootstrap`` for clients."""
    with ApacheKafka() as kafka:
        yield kafka


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """PostgreSQL with database ``smati`` (``SMATI_DATABASE_URL`` if set); ``postgres.url``."""
    with PostgresServer() as server:
        yield server


@pytest.fixture(scope="session")
def mqtt_broker() -> Iterator[MqttBroker]:
    """MQTT broker (``SMATI_MQTT_URL`` if set, else Mosquitto); ``.host``, ``.port``, ``.url``."""
    with MqttBroker() as broker:
        yield broker


@contextmanager
def fresh_database(server_url: str) -> Iterator[str]:
    """A new empty database on the test server, dropped afterwards; yields its URL."""
    name = f"test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server_url, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield make_conninfo(server_url, dbname=name)
    finally:
        with psycopg.connect(server_url, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture(scope="module")
def database(postgres: PostgresServer) -> Iterator[str]:
    """This test module's own migrated database; its URL."""
    with fresh_database(postgres.url) as url:
        migrate(url)
        yield url


@pytest.fixture
def empty_database(postgres: PostgresServer) -> Iterator[str]:
    """A new database with no schema, for this test only; its URL."""
    with fresh_database(postgres.url) as url:
        yield url


def pipeline_settings(
    kafka: ApacheKafka, mqtt: MqttBroker, database: str, name: str, run: str
) -> dict[str, Any]:
    """Settings of a worker and its connectors on the test services, in topics of their own."""
    return {
        "kafka_bootstrap": kafka.bootstrap,
        "database_url": database,
        "mqtt_url": mqtt.url,
        "topic_prefix": f"{name}-{run}",
        "app_id": f"smati-{name}-{run}",
        "broker_session_timeout_s": 30,  # no spurious rebalance when the machine is busy
        "sink_batch_seconds": 0.2,
        "web_port": free_port(),
        "mqtt_web_port": 0,
        "registry_refresh_s": 1,
    }


def prepared_run(
    overrides: dict[str, Any], database: str, registry: Registry
) -> tuple[Settings, dict[str, str]]:
    """A run's settings and its child processes' environment, once its registry is saved
    in `database` and its topics are created."""
    settings = Settings.model_validate(overrides)
    with psycopg.connect(database) as conn:
        save_registry(conn, registry)
    ensure_topics(settings)
    return settings, {**os.environ, **settings_env(overrides)}


@contextmanager
def device_publisher(broker: MqttBroker, run: str) -> Iterator[Callable[[list[Message]], None]]:
    """A function publishing the simulator's messages (QoS 1) as the run's devices, under
    the run's topics (`<run>/devices/...`), returning once the broker has them all."""
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"devices-{run}")
    assert broker.port is not None
    client.connect(broker.host, broker.port)
    client.loop_start()

    def publish(messages: list[Message]) -> None:
        infos = [
            client.publish(m.topic.replace("smati/", f"{run}/", 1), m.payload, qos=1)
            for m in messages
        ]
        for info in infos:
            info.wait_for_publish(timeout=10)

    try:
        yield publish
    finally:
        client.loop_stop()
        client.disconnect()
