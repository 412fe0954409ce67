"""A device id holding a `/` is a dead letter `bad_topic`, not a message nobody receives."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
from test_mqtt_connector import Connector, publish, raw_uplinks

from connectors.topics import DEFAULT_TEMPLATES, TopicTemplate
from services import ApacheKafka, MqttBroker, wait_until
from stream.topics import read_topic


@pytest.mark.parametrize(
    ("template", "catch_all"),
    [
        ("smati/devices/{device_id}/up", "smati/devices/#"),
        (DEFAULT_TEMPLATES["tts"], "v3/+/devices/#"),
        (DEFAULT_TEMPLATES["chirpstack"], "application/+/device/#"),
        ("site/+/{device_id}/#", "site/+/#"),
    ],
)
def test_the_catch_all_subscription_ends_before_the_device_level(
    template: str, catch_all: str
) -> None:
    assert TopicTemplate(template).catch_all == catch_all


def test_a_device_level_empty_or_holding_a_slash_is_misplaced() -> None:
    template = TopicTemplate("smati/devices/{device_id}/up")
    assert template.misplaced("smati/devices/a/b/up")
    assert template.misplaced("smati/devices//up")
    assert not template.misplaced("smati/devices/a/up")  # a good topic
    assert not template.misplaced("smati/devices/a/status")  # not an uplink
    tts = TopicTemplate(DEFAULT_TEMPLATES["tts"])
    assert tts.misplaced("v3/app@acme/devices/elsys/1/up")
    assert not tts.misplaced("v3/app@acme/devices/elsys-1/join")


@pytest.mark.integration
def test_the_connector_dead_letters_a_bad_topic_and_skips_other_events(
    kafka_broker: ApacheKafka, mqtt_broker: MqttBroker, tmp_path: Path
) -> None:
    run = f"topic{uuid.uuid4().hex[:8]}"
    bridge = Connector(kafka_broker.bootstrap, mqtt_broker.url, run, tmp_path / "c.log")
    try:
        publish(
            mqtt_broker,
            [
                (f"{run}/floor-2/meter-7/up", b'{"values": {"index": 1}}'),
                (f"{run}/meter-8/status", b"online"),
                (f"{run}/meter-8/up", b'{"values": {"index": 2}}'),
            ],
        )
        raw = raw_uplinks(kafka_broker, run, 1)
        letters = wait_until(
            lambda: read_topic(kafka_broker.bootstrap, f"{run}.dead-letter", timeout_s=5),
            timeout=60,
            what="the dead letter",
            interval=0.5,
        )
        wait_until(
            lambda: bridge.metrics()["smati_uplinks_received_total{source=mqtt}"] == 3,
            timeout=60,
            what="the connector to count three messages",
            interval=0.5,
        )
        metrics = bridge.metrics()
    finally:
        bridge.process.stop()
    # The status message is skipped: neither forwarded nor dead-lettered.
    assert [uplink.device_id for uplink in raw] == ["meter-8"]
    (letter,) = [json.loads(value) for value in letters]
    assert letter["code"] == "bad_topic"
    assert letter["origin"] == f"mqtt:{run}/floor-2/meter-7/up"
    assert f"'{run}/floor-2/meter-7/up'" in letter["reason"]
    assert metrics["smati_uplinks_refused_total{reason=bad_topic}{source=mqtt}"] == 1
    logged = [json.loads(line) for line in bridge.process.log().splitlines() if line[:1] == "{"]
    (refusal,) = [line for line in logged if line["message"].startswith("dead letter")]
    assert refusal["origin"] == letter["origin"]  # a field of its own, to filter logs by
