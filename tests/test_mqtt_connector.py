"""The MQTT connector acknowledges a message only once Kafka has it: an outage loses nothing."""

from __future__ import annotations

import json
import os
import time
import uuid
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest

from models.uplink import RawUplink
from services import ApacheKafka, MqttBroker, free_port
from services.processes import RoleProcess
from stream.topics import read_topic

pytestmark = pytest.mark.integration


def connector(bootstrap: str, mqtt_url: str, run: str, log: Path) -> RoleProcess:
    env = {
        **os.environ,
        "SMATI_KAFKA_BOOTSTRAP": bootstrap,
        "SMATI_MQTT_URL": mqtt_url,
        "SMATI_TOPIC_PREFIX": run,
        "SMATI_MQTT_CLIENT_ID": f"connector-{run}",
        "SMATI_MQTT_TOPICS": json.dumps([f"{run}/{{device_id}}/up"]),
    }
    return RoleProcess(["connector", "mqtt"], env, log)


def publish(broker: MqttBroker, topic: str, payload: bytes) -> None:
    device = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"device-{uuid.uuid4()}")
    assert broker.port is not None
    device.connect(broker.host, broker.port)
    device.loop_start()
    device.publish(topic, payload, qos=1).wait_for_publish(5)
    device.loop_stop()
    device.disconnect()


def raw_payloads(kafka: ApacheKafka, run: str, count: int, timeout: float = 60) -> list[bytes]:
    """The payloads of the raw topic, once there are `count` of them (or the timeout)."""
    deadline = time.monotonic() + timeout
    payloads: list[bytes] = []
    while len(payloads) < count and time.monotonic() < deadline:
        time.sleep(0.5)
        values = read_topic(kafka.bootstrap, f"{run}.raw", timeout_s=5)
        payloads = [RawUplink.from_json(value).payload for value in values]
    return payloads


def test_connector_reconnects_to_a_restarted_mqtt_broker_and_kafka(
    kafka_broker: ApacheKafka, tmp_path: Path
) -> None:
    run = f"conn{uuid.uuid4().hex[:8]}"
    with MqttBroker(use_env=False) as broker:
        bridge = connector(kafka_broker.bootstrap, broker.url, run, tmp_path / "c.log")
        try:
            bridge.wait_for_line("subscribed to")
            publish(broker, f"{run}/m1/up", b"before")
            assert raw_payloads(kafka_broker, run, 1) == [b"before"]
            broker.restart()
            deadline = time.monotonic() + 30
            while bridge.log().count("subscribed to") < 2 and time.monotonic() < deadline:
                time.sleep(0.2)
            publish(broker, f"{run}/m1/up", b"after mqtt restart")
            assert sorted(raw_payloads(kafka_broker, run, 2)) == [b"after mqtt restart", b"before"]
            kafka_broker.restart()
            publish(broker, f"{run}/m1/up", b"after kafka restart")
            assert len(raw_payloads(kafka_broker, run, 3)) == 3
            bridge.raise_if_dead()
        finally:
            bridge.stop()


def test_messages_unconfirmed_by_kafka_come_again_after_a_crash(
    kafka_broker: ApacheKafka, mqtt_broker: MqttBroker, tmp_path: Path
) -> None:
    run = f"conn{uuid.uuid4().hex[:8]}"
    nowhere = f"127.0.0.1:{free_port()}"  # no Kafka listens there
    first = connector(nowhere, mqtt_broker.url, run, tmp_path / "first.log")
    first.wait_for_line("subscribed to")
    device = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"device-{run}")
    assert mqtt_broker.port is not None
    device.connect(mqtt_broker.host, mqtt_broker.port)
    device.loop_start()
    payloads = [json.dumps({"values": {"index": n}}).encode() for n in range(5)]
    for payload in payloads:
        device.publish(f"{run}/meter-{run}/up", payload, qos=1).wait_for_publish(5)
    device.loop_stop()
    device.disconnect()
    time.sleep(1)  # the connector has received them, and cannot get them into Kafka
    first.process.kill()
    first.process.wait()

    second = connector(kafka_broker.bootstrap, mqtt_broker.url, run, tmp_path / "second.log")
    try:
        deadline = time.monotonic() + 60
        uplinks: list[RawUplink] = []
        while len(uplinks) < len(payloads) and time.monotonic() < deadline:
            time.sleep(0.5)
            values = read_topic(kafka_broker.bootstrap, f"{run}.raw", timeout_s=5)
            uplinks = [RawUplink.from_json(value) for value in values]
    finally:
        second.stop()
    assert sorted(u.payload for u in uplinks) == sorted(payloads)
    assert {u.device_id for u in uplinks} == {f"meter-{run}"}
    assert all(
        u.source == "mqtt" and u.metadata["topic"] == f"{run}/meter-{run}/up" for u in uplinks
    )


def test_what_cannot_become_an_uplink_is_dead_lettered(
    kafka_broker: ApacheKafka, mqtt_broker: MqttBroker, tmp_path: Path
) -> None:
    run = f"conn{uuid.uuid4().hex[:8]}"
    bridge = connector(kafka_broker.bootstrap, mqtt_broker.url, run, tmp_path / "c.log")
    bridge.wait_for_line("subscribed to")
    device = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"device-{run}")
    assert mqtt_broker.port is not None
    device.connect(mqtt_broker.host, mqtt_broker.port)
    device.loop_start()
    huge = b"x" * (300 * 1024)
    for topic, payload in (
        (f"{run}/big-meter/up", huge),
        (f"{run}//up", b"{}"),
        (f"{run}/ok/up", b"1"),
    ):
        device.publish(topic, payload, qos=1).wait_for_publish(5)
    device.loop_stop()
    device.disconnect()
    try:
        deadline = time.monotonic() + 30
        letters: list[dict[str, object]] = []
        while len(letters) < 2 and time.monotonic() < deadline:
            time.sleep(0.5)
            values = read_topic(kafka_broker.bootstrap, f"{run}.dead-letter", timeout_s=5)
            letters = [json.loads(value) for value in values]
        raw = read_topic(kafka_broker.bootstrap, f"{run}.raw", timeout_s=5)
    finally:
        bridge.stop()
    by_code = {letter["code"]: letter for letter in letters}
    assert set(by_code) == {"oversized", "unknown_device"}
    assert "307200 bytes" in str(by_code["oversized"]["reason"])
    assert by_code["oversized"]["device_id"] == "big-meter"
    assert f"'{run}//up'" in str(by_code["unknown_device"]["reason"])
    assert [RawUplink.from_json(value).device_id for value in raw] == ["ok"]
