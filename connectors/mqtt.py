"""MQTT -> Kafka connector: every message becomes a raw uplink keyed by its device id.

Thin and stateless: no decoding here (the stream decodes, so a decoder fix can replay the
raw topic). Delivery: subscriptions use QoS 1 with a persistent session and manual
acknowledgement, and a message is acknowledged to the MQTT broker only once Kafka has
confirmed it; a message Kafka refused is never acknowledged, and the connector
reconnects so that the broker delivers it again. What cannot become an uplink (a topic
without a device id, a payload over the size limit, a network server's message not in
its format) goes to the dead-letter topic, also acknowledged only once Kafka has it.

The `source` says what the messages are: `mqtt` (devices publishing their own payload),
or the uplinks of a LoRaWAN network server's MQTT integration, `tts` (The Things Stack)
or `chirpstack` (ChirpStack v4), whose radio metadata (DevEUI, frame counter, port,
gateways with RSSI and SNR) the connector adds to the envelope.

Given a web address, it serves `/health` (connected to the MQTT broker, and its Kafka
producer reaching the cluster; `/ready` the same, `/live` that it answers) and `/metrics`
(models.metrics): messages received, raw uplinks and refused ones (by reason) Kafka
confirmed, records Kafka did not confirm, the MQTT connection's state.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

import paho.mqtt.client as mqtt
from confluent_kafka import KafkaError, Message, Producer
from paho.mqtt.reasoncodes import ReasonCode
from prometheus_client import Counter

from connectors.dead_letters import connector_dead_letter
from connectors.mqtt_session import PersistentSubscriber
from connectors.status import StatusServer, kafka_reachable
from connectors.topics import TopicTemplate
from models.dead_letter import RejectCode
from models.kafka import client_config, produce
from models.metrics import (
    KAFKA_PRODUCE_ERRORS,
    MQTT_CONNECTED,
    UPLINKS_PUBLISHED,
    UPLINKS_RECEIVED,
    UPLINKS_REFUSED,
    watch_produce_errors,
)
from models.network_servers import FRAME_PARSERS
from models.radio import FrameFormatError, NotAnUplink
from models.uplink import RawUplink

log = logging.getLogger(__name__)


def kafka_producer(bootstrap: str) -> Producer:
    """An idempotent producer: librdkafka's retries never write an uplink twice."""
    return Producer(
        client_config(
            bootstrap,
            {"enable.idempotence": True, "acks": "all", "linger.ms": 5, "compression.type": "lz4"},
        )
    )


class MqttConnector(PersistentSubscriber):
    """Bridges MQTT subscriptions to the raw uplink topic until `stop()` is called."""

    def __init__(
        self,
        mqtt_url: str,
        templates: list[TopicTemplate],
        producer: Producer,
        raw_topic: str,
        dead_letter_topic: str,
        client_id: str,
        max_payload_bytes: int = 256 * 1024,
        source: str = "mqtt",
        web_address: tuple[str, int] | None = None,
    ) -> None:
        self._source = source
        self._received = UPLINKS_RECEIVED.labels(source=source)
        self._published = UPLINKS_PUBLISHED.labels(source=source)
        self._parse_frame = FRAME_PARSERS.get(source)
        self._templates = templates
        self._producer = producer
        self._raw_topic = raw_topic
        self._dead_letter_topic = dead_letter_topic
        watch_produce_errors(raw_topic, dead_letter_topic)
        self._max_payload_bytes = max_payload_bytes
        self._web_address = web_address
        super().__init__(mqtt_url, client_id)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_subscribe = self._on_subscribe

    def run(self) -> None:
        """Serve /health and /metrics, connect, forward until stopped, then flush and stop."""
        status = self._serve_status()
        try:
            # Polling the producer runs the delivery callbacks, which acknowledge to MQTT;
            # what Kafka has yet to confirm is flushed before the session ends.
            self._serve(lambda: self._producer.poll(0.1), lambda: self._producer.flush(30))
        finally:
            if status is not None:
                status.stop()

    def _serve_status(self) -> StatusServer | None:
        if self._web_address is None:
            return None
        checks = {
            "mqtt": self.client.is_connected,
            "kafka": lambda: kafka_reachable(self._producer),
        }
        server = StatusServer(checks, *self._web_address)
        log.info("serving /health and /metrics on %s", server.start())
        return server

    def _on_connect(
        self, client: mqtt.Client, _: object, __: object, reason: ReasonCode, ___: object
    ) -> None:
        log.info("connected to MQTT %s:%s (%s)", self._url.hostname, self._url.port, reason)
        MQTT_CONNECTED.set(0 if reason.is_failure else 1)
        for template in self._templates:
            client.subscribe(template.catch_all, qos=1)

    def _on_disconnect(self, *_: object) -> None:
        MQTT_CONNECTED.set(0)

    def _on_subscribe(self, *_: object) -> None:
        topics = ", ".join(template.catch_all for template in self._templates)
        log.info("subscribed to %s", topics)

    def _on_message(self, client: mqtt.Client, _: object, message: mqtt.MQTTMessage) -> None:
        self._received.inc()
        device_id = self._device_id(message.topic)
        if device_id is None and any(t.misplaced(message.topic) for t in self._templates):
            reason = f"MQTT topic {message.topic!r} matches no template: bad device id level"
            self._dead_letter(message, RejectCode.BAD_TOPIC, reason)
        elif device_id is None:  # not an uplink: a network server's join or downlink event
            log.debug("ignored MQTT topic %s: not an uplink", message.topic)
            client.ack(message.mid, message.qos)
        elif len(message.payload) > self._max_payload_bytes:
            reason = (
                f"payload of {len(message.payload)} bytes is over the limit of "
                f"{self._max_payload_bytes}; its first {self._max_payload_bytes} bytes are kept"
            )
            self._dead_letter(message, RejectCode.OVERSIZED, reason, device_id)
        else:
            self._forward(message, device_id)

    def _forward(self, message: mqtt.MQTTMessage, device_id: str) -> None:
        received_at = datetime.now(UTC)
        metadata = {"topic": message.topic, "qos": message.qos, "retain": message.retain}
        if self._parse_frame is not None:
            try:
                frame = self._parse_frame(bytes(message.payload), received_at)
            except NotAnUplink as other:
                log.info("ignored MQTT topic %s: %s", message.topic, other)
                self.client.ack(message.mid, message.qos)
                return
            except FrameFormatError as error:
                self._dead_letter(message, RejectCode.MALFORMED_PAYLOAD, str(error), device_id)
                return
            metadata.update(frame.metadata())
        uplink = RawUplink(
            source=self._source,
            device_id=device_id,
            received_at=received_at,
            payload=message.payload,
            metadata=metadata,
        )
        stored = self._ack_when_stored(message, self._raw_topic, self._published)
        self._produce(self._raw_topic, device_id, uplink.to_json(), stored)

    def _dead_letter(
        self, message: mqtt.MQTTMessage, code: RejectCode, reason: str, device_id: str | None = None
    ) -> None:
        letter = connector_dead_letter(
            code,
            reason,
            origin=f"mqtt:{message.topic}",
            original=bytes(message.payload[: self._max_payload_bytes]),
            device_id=device_id,
        )
        refused = UPLINKS_REFUSED.labels(source=self._source, reason=code.value)
        stored = self._ack_when_stored(message, self._dead_letter_topic, refused)
        self._produce(self._dead_letter_topic, device_id or message.topic, letter.to_json(), stored)

    def _ack_when_stored(
        self, message: mqtt.MQTTMessage, topic: str, confirmed: Counter
    ) -> Callable[[KafkaError | None, Message], None]:
        """The delivery callback: acknowledge to MQTT once Kafka has the record (counting it
        as `confirmed`), or reconnect."""
        mid, qos = message.mid, message.qos

        def delivered(error: KafkaError | None, _: Message) -> None:
            if error is None:
                self.client.ack(mid, qos)
                confirmed.inc()
            else:
                KAFKA_PRODUCE_ERRORS.labels(topic=topic).inc()
                log.error(
                    "Kafka refused the record of MQTT topic %s: %s",
                    message.topic,
                    error,
                    extra={"mqtt_topic": message.topic, "topic": topic},
                )
                self.redeliver()

        return delivered

    def _produce(self, topic: str, key: str, value: bytes, delivered: Callable[..., None]) -> None:
        """Produce, waiting while librdkafka's local queue is full (back-pressure to MQTT)."""
        produce(
            self._producer,
            topic,
            value,
            key.encode(),
            delivered,
            stopping=self._stopping.is_set,
            poll_s=0.2,
        )

    def _device_id(self, topic: str) -> str | None:
        for template in self._templates:
            device_id = template.device_id(topic)
            if device_id is not None:
                return device_id
        return None
