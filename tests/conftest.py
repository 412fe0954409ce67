"""Shared session fixtures: real services started once per test session, always stopped."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from services import ApacheKafka, MqttBroker, PostgresServer


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
