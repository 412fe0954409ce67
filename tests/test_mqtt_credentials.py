"""MQTT credentials come percent-encoded in the URL: The Things Stack's users are `app@tenant`."""

from __future__ import annotations

from confluent_kafka import Producer

from connectors.mqtt import MqttConnector
from connectors.topics import DEFAULT_TEMPLATES, TopicTemplate


def test_user_and_password_are_percent_decoded() -> None:
    connector = MqttConnector(
        "mqtt://hq-sensors%40acme:NNSXS.K3Y%2F%3D@eu1.cloud.thethings.network:1883",
        [TopicTemplate(DEFAULT_TEMPLATES["tts"])],
        Producer({"bootstrap.servers": "127.0.0.1:9"}),
        "raw",
        "dead-letter",
        "client",
    )
    assert connector.client._username == b"hq-sensors@acme"
    assert connector.client._password == b"NNSXS.K3Y/="
