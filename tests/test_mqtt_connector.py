"""The MQTT connector acknowledges a message only once Kafka has it: an outage loses nothing.

Its /health and /metrics tell what it sees: the tests wait on them, not on the clock.
"""

from __future__ import annotations

import json
import os
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from conditions import wait_for
from paho.mqtt.enums import CallbackAPIVersion
from status_endpoints import health, metrics, status_url

from models.uplink import RawUplink
from services import ApacheKafka, MqttBroker, free_port
from services.processes import RoleProcess
from stream.topics import read_topic

pytestmark = pytest.mark.integration

HEALTHY = (200, {"healthy": True, "checks": {"mqtt": True, "kafka": True}})


class Connector:
    """`smati connector mqtt` in a child process, and its /health and /metrics."""

    def __init__(self, bootstrap: str, mqtt_url: str, run: str, log: Path) -> None:
        self.run = run
        env = {
            **os.environ,
            "SMATI_KAFKA_BOOTSTRAP": bootstrap,
            "SMATI_MQTT_URL": mqtt_url,
            "SMATI_TOPIC_PREFIX": run,
            "SMATI_MQTT_CLIENT_ID": f"connector-{run}",
            "SMATI_MQTT_TOPICS": json.dumps([f"{run}/{{device_id}}/up"]),
            "SMATI_MQTT_WEB_PORT": "0",
        }
        self.process = RoleProcess(["connector", "mqtt"], env, log)
        self.url = status_url(self.process)
        self.process.wait_for_line("subscribed to")

    def health(self) -> tuple[int, dict[str, Any]]:
        return health(self.url)

    def metrics(self) -> dict[str, float]:
        return metrics(self.url, "smati_")


def publish(broker: MqttBroker, messages: list[tuple[str, bytes]]) -> None:
    """Publish as a device does, at QoS 1: each confirmed by the broker."""
    device = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"device-{uuid.uuid4()}")
    assert broker.port is not None
    device.connect(broker.host, broker.port)
    device.loop_start()
    for topic, payload in messages:
        device.publish(topic, payload, qos=1).wait_for_publish(5)
    device.loop_stop()
    device.disconnect()


def raw_uplinks(kafka: ApacheKafka, run: str, count: int) -> list[RawUplink]:
    """The uplinks of the raw topic, once there are `count` of them."""

    def read() -> list[RawUplink]:
        values = read_topic(kafka.bootstrap, f"{run}.raw", timeout_s=5)
        return [RawUplink.from_json(value) for value in values]

    return wait_for(read, lambda uplinks: len(uplinks) >= count)


def raw_payloads(kafka: ApacheKafka, run: str, count: int) -> list[bytes]:
    return sorted(uplink.payload for uplink in raw_uplinks(kafka, run, count))


@pytest.fixture
def own_broker(kafka_broker: ApacheKafka, tmp_path: Path) -> Iterator[tuple[MqttBroker, Connector]]:
    """A Mosquitto of the test's own, which it may restart or stop, and a connector on it."""
    run = f"conn{uuid.uuid4().hex[:8]}"
    with MqttBroker(use_env=False) as broker:
        bridge = Connector(kafka_broker.bootstrap, broker.url, run, tmp_path / "c.log")
        try:
            yield broker, bridge
        finally:
            bridge.process.stop()


def test_connector_reconnects_to_a_restarted_mqtt_broker_and_kafka(
    kafka_broker: ApacheKafka, own_broker: tuple[MqttBroker, Connector]
) -> None:
    broker, bridge = own_broker
    topic = f"{bridge.run}/m1/up"
    assert bridge.health() == HEALTHY
    publish(broker, [(topic, b"before")])
    assert raw_payloads(kafka_broker, bridge.run, 1) == [b"before"]
    broker.restart()
    wait_for(bridge.process.log, lambda log: log.count("subscribed to") >= 2)
    publish(broker, [(topic, b"after mqtt restart")])
    assert raw_payloads(kafka_broker, bridge.run, 2) == [b"after mqtt restart", b"before"]
    kafka_broker.restart()
    publish(broker, [(topic, b"after kafka restart")])
    assert len(raw_payloads(kafka_broker, bridge.run, 3)) == 3
    metrics = wait_for(
        bridge.metrics, lambda m: m["smati_uplinks_published_total{source=mqtt}"] == 3
    )
    assert metrics["smati_uplinks_received_total{source=mqtt}"] == 3
    assert metrics["smati_mqtt_connected"] == 1
    bridge.process.raise_if_dead()


def test_health_and_metrics_show_a_lost_mqtt_broker(
    own_broker: tuple[MqttBroker, Connector],
) -> None:
    broker, bridge = own_broker
    assert bridge.metrics()["smati_mqtt_connected"] == 1
    broker.stop()
    health = wait_for(bridge.health, lambda answer: answer != HEALTHY)
    assert health == (503, {"healthy": False, "checks": {"mqtt": False, "kafka": True}})
    assert bridge.metrics()["smati_mqtt_connected"] == 0


def test_messages_unconfirmed_by_kafka_come_again_after_a_crash(
    kafka_broker: ApacheKafka, mqtt_broker: MqttBroker, tmp_path: Path
) -> None:
    run = f"conn{uuid.uuid4().hex[:8]}"
    nowhere = f"127.0.0.1:{free_port()}"  # no Kafka listens there
    first = Connector(nowhere, mqtt_broker.url, run, tmp_path / "first.log")
    topic = f"{run}/meter-{run}/up"
    payloads = [json.dumps({"values": {"index": n}}).encode() for n in range(5)]
    publish(mqtt_broker, [(topic, payload) for payload in payloads])
    # The connector has received them, and cannot get them into Kafka.
    metrics = wait_for(first.metrics, lambda m: m["smati_uplinks_received_total{source=mqtt}"] == 5)
    assert metrics["smati_uplinks_published_total{source=mqtt}"] == 0
    assert first.health() == (503, {"healthy": False, "checks": {"mqtt": True, "kafka": False}})
    first.process.process.kill()
    first.process.process.wait()
    # librdkafka's complaints go through the JSON log set-up, not raw onto stderr.
    records = [json.loads(line) for line in first.process.log().splitlines()]
    assert any(
        r["logger"] == "librdkafka" and "Connection refused" in r["message"] for r in records
    )

    second = Connector(kafka_broker.bootstrap, mqtt_broker.url, run, tmp_path / "second.log")
    try:
        uplinks = raw_uplinks(kafka_broker, run, len(payloads))
        published = wait_for(
            second.metrics,
            lambda m: m["smati_uplinks_published_total{source=mqtt}"] == len(payloads),
        )
    finally:
        second.process.stop()
    assert published["smati_uplinks_received_total{source=mqtt}"] == len(payloads)
    assert sorted(u.payload for u in uplinks) == sorted(payloads)
    assert {u.device_id for u in uplinks} == {f"meter-{run}"}
    assert all(u.source == "mqtt" and u.metadata["topic"] == topic for u in uplinks)


def test_what_cannot_become_an_uplink_is_dead_lettered(
    kafka_broker: ApacheKafka, mqtt_broker: MqttBroker, tmp_path: Path
) -> None:
    run = f"conn{uuid.uuid4().hex[:8]}"
    bridge = Connector(kafka_broker.bootstrap, mqtt_broker.url, run, tmp_path / "c.log")
    huge = b"x" * (300 * 1024)
    publish(
        mqtt_broker,
        [(f"{run}/big-meter/up", huge), (f"{run}//up", b"{}"), (f"{run}/ok/up", b"1")],
    )
    try:

        def read_letters() -> list[dict[str, Any]]:
            values = read_topic(kafka_broker.bootstrap, f"{run}.dead-letter", timeout_s=5)
            return [json.loads(value) for value in values]

        letters = wait_for(read_letters, lambda found: len(found) >= 2)
        raw = raw_uplinks(kafka_broker, run, 1)
        metrics = wait_for(
            bridge.metrics, lambda m: m["smati_uplinks_published_total{source=mqtt}"] == 1
        )
    finally:
        bridge.process.stop()
    by_code = {letter["code"]: letter for letter in letters}
    assert set(by_code) == {"oversized", "bad_topic"}
    assert "307200 bytes" in str(by_code["oversized"]["reason"])
    assert by_code["oversized"]["device_id"] == "big-meter"
    assert f"'{run}//up'" in str(by_code["bad_topic"]["reason"])
    assert [uplink.device_id for uplink in raw] == ["ok"]
    assert metrics["smati_uplinks_received_total{source=mqtt}"] == 3
    assert metrics["smati_uplinks_refused_total{reason=oversized}{source=mqtt}"] == 1
    assert metrics["smati_uplinks_refused_total{reason=bad_topic}{source=mqtt}"] == 1


def test_a_connector_stopped_mid_stream_leaves_nothing_twice_in_kafka(
    kafka_broker: ApacheKafka, mqtt_broker: MqttBroker, tmp_path: Path
) -> None:
    """SIGTERM while messages pour in: what it forwarded is acknowledged, what it did not
    comes again to the next connector (same persistent session), nothing comes twice."""
    run = f"conn{uuid.uuid4().hex[:8]}"
    first = Connector(kafka_broker.bootstrap, mqtt_broker.url, run, tmp_path / "first.log")
    payloads = [json.dumps({"values": {"index": n}}).encode() for n in range(20_000)]
    devices = threading.Thread(
        target=publish,
        args=(mqtt_broker, [(f"{run}/m{n % 50}/up", p) for n, p in enumerate(payloads)]),
    )
    devices.start()
    wait_for(first.metrics, lambda m: m["smati_uplinks_published_total{source=mqtt}"] >= 2000)
    assert first.process.stop() == 0
    second = Connector(kafka_broker.bootstrap, mqtt_broker.url, run, tmp_path / "second.log")
    try:
        devices.join()
        forwarded = wait_for(
            lambda: [u.payload for u in raw_uplinks(kafka_broker, run, len(payloads))],
            lambda found: set(found) == set(payloads),
            timeout=120,
        )
    finally:
        second.process.stop()
    assert len(forwarded) == len(payloads)
