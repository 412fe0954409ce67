"""MQTT tenants kept apart by Mosquitto itself: the users and ACL that `smati mqtt
credentials` writes from the registry let a tenant publish its own devices' topics only."""

from __future__ import annotations

import queue
import uuid
from collections.abc import Iterator
from pathlib import Path

import paho.mqtt.client as mqtt
import psycopg
import pytest
from click.testing import CliRunner
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.reasoncodes import ReasonCode

from connectors.topics import TopicTemplate
from models.mqtt_acl import NotATopicLevel, acl_file
from models.registry import Registry
from models.registry_file import parse_registry
from services import MqttBroker
from services.mqtt import MqttAccess
from smati.cli import main
from storage.registry_store import save_registry

SITE = parse_registry(
    """
tenants:
  - id: acme
    entities:
      - id: hq
        equipment:
          - id: hq.meter
            usages: [{id: hq.energy, type: index, unit: kWh, period_s: 900}]
  - id: globex
    entities:
      - id: plant
        equipment:
          - id: plant.meter
            usages: [{id: plant.energy, type: index, unit: kWh, period_s: 900}]
transceivers:
  - {id: 70B3D57ED0000001, network: lorawan}
  - {id: tx-hq, network: mqtt}
devices:
  - {id: hq-meter, tenant: acme, transceiver: tx-hq, channels: {index: hq.energy}}
  - {id: hq-lorawan, tenant: acme, transceiver: 70B3D57ED0000001, channels: {index: hq.energy}}
  - {id: plant-meter, tenant: globex, channels: {index: plant.energy}}
"""
)
TEMPLATE = TopicTemplate("smati/devices/{device_id}/up")
CONNECTOR = ("smati-connector", "connector-secret")
PASSWORDS = {"acme": "acme-secret", "globex": "globex-secret"}


def acl(registry: Registry) -> str:
    return acl_file(registry, CONNECTOR[0], [TEMPLATE.catch_all], lambda d: [TEMPLATE.topic(d)])


def test_each_tenant_writes_its_own_mqtt_devices_topics_only() -> None:
    assert acl(SITE).splitlines()[1:] == [
        "user smati-connector",
        "topic read smati/devices/#",
        "",
        "user acme",
        "topic write smati/devices/hq-meter/up",  # not hq-lorawan: its network server sends
        "",
        "user globex",
        "topic write smati/devices/plant-meter/up",
    ]


def test_an_id_that_cannot_be_a_topic_level_is_refused() -> None:
    document = SITE.model_dump(mode="json")
    document["devices"][2]["id"] = "plant/#"
    with pytest.raises(NotATopicLevel, match="device id 'plant/#' cannot be an MQTT topic level"):
        acl(Registry.model_validate(document))


@pytest.fixture(scope="module")
def broker(database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[MqttBroker]:
    """A Mosquitto with the users and ACL `smati mqtt credentials` wrote."""
    folder = tmp_path_factory.mktemp("mqtt-access")
    with psycopg.connect(database) as conn:
        save_registry(conn, SITE)
    env = {
        "SMATI_DATABASE_URL": database,
        "SMATI_MQTT_URL": f"mqtt://{CONNECTOR[0]}:{CONNECTOR[1]}@127.0.0.1:1883",
        "SMATI_MQTT_TENANT_PASSWORDS": '{"acme": "acme-secret", "globex": "globex-secret"}',
        "SMATI_MQTT_TOPICS": '["smati/devices/{device_id}/up"]',
    }
    result = CliRunner().invoke(main, ["mqtt", "credentials", "--out", str(folder)], env=env)
    assert result.exit_code == 0, result.output
    assert "password_file" in result.output
    assert "acme-secret" not in (folder / "passwords").read_text()  # hashed
    broker = MqttBroker(use_env=False, access=MqttAccess(folder, *CONNECTOR))
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()


def connect(broker: MqttBroker, user: str | None, password: str | None) -> tuple[mqtt.Client, str]:
    """A client that asked to connect, and the broker's answer (`Success`, `Not authorized`)."""
    assert broker.port is not None
    session = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"t-{uuid.uuid4().hex[:8]}")
    if user is not None:
        session.username_pw_set(user, password)
    answers: queue.Queue[ReasonCode] = queue.Queue()
    session.on_connect = lambda _c, _u, _f, reason, _p: answers.put(reason)
    session.connect(broker.host, broker.port)
    session.loop_start()
    return session, str(answers.get(timeout=10))


def client(broker: MqttBroker, user: str, password: str) -> mqtt.Client:
    session, answer = connect(broker, user, password)
    assert answer == "Success", answer
    return session


def answer(broker: MqttBroker, user: str | None, password: str | None) -> str:
    session, said = connect(broker, user, password)
    session.loop_stop()
    session.disconnect()
    return said


def test_a_tenant_publishes_to_its_own_devices_and_never_to_another_s(broker: MqttBroker) -> None:
    received: queue.Queue[str] = queue.Queue()
    subscribed: queue.Queue[list[ReasonCode]] = queue.Queue()
    connector = client(broker, *CONNECTOR)
    connector.on_message = lambda _c, _u, message: received.put(message.topic)
    connector.on_subscribe = lambda _c, _u, _m, reasons, _p: subscribed.put(reasons)
    connector.subscribe("smati/devices/#", qos=1)
    assert not any(reason.is_failure for reason in subscribed.get(timeout=10))
    acme = client(broker, "acme", PASSWORDS["acme"])
    try:
        # In order, from one client: the denied message would have come first.
        acme.publish(TEMPLATE.topic("plant-meter"), b"{}", qos=1).wait_for_publish(10)
        acme.publish(TEMPLATE.topic("hq-meter"), b"{}", qos=1).wait_for_publish(10)
        assert received.get(timeout=10) == TEMPLATE.topic("hq-meter")
    finally:
        acme.disconnect()
        connector.disconnect()


def test_no_one_connects_without_a_user_of_the_registry(broker: MqttBroker) -> None:
    assert answer(broker, None, None) == "Not authorized"
    assert answer(broker, "acme", "globex-secret") == "Not authorized"
    assert answer(broker, "globex", PASSWORDS["globex"]) == "Success"


def test_credentials_need_the_connector_s_own_user(database: str, tmp_path: Path) -> None:
    env = {"SMATI_DATABASE_URL": database, "SMATI_MQTT_URL": "mqtt://127.0.0.1:1883"}
    result = CliRunner().invoke(main, ["mqtt", "credentials", "--out", str(tmp_path)], env=env)
    assert result.exit_code == 1
    assert "SMATI_MQTT_URL has no user and password" in result.output
