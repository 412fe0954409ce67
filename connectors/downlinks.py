"""Downlinks over MQTT: pushing one to a LoRaWAN network server, and following its events.

The Things Stack's MQTT server takes QoS 0 only; ChirpStack's integration runs on an
ordinary broker, where a push waits for the broker's PUBACK. Either way the network's own
`queued`/`txack` event is what tells the downlink arrived (see models.downlink).

`DownlinkEventListener` subscribes to a server's downlink events and hands each event of
a SMATI downlink to `record` (the CLI wires it to the database); with QoS 1 and a
persistent session, a message is acknowledged only once recorded, so none is lost while
the listener or the database is away.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import paho.mqtt.client as mqtt
from paho.mqtt.reasoncodes import ReasonCode

from connectors.mqtt_session import PersistentSubscriber, mqtt_client
from models.downlink import EVENT_PARSERS, DownlinkEvent, DownlinkEventError
from models.errors import SmatiError
from models.registry import NetworkServer

log = logging.getLogger(__name__)

PUSH_QOS = {NetworkServer.TTS: 0, NetworkServer.CHIRPSTACK: 1}


class DownlinkNotPushed(SmatiError, ConnectionError):
    """The MQTT broker of the network server did not take the downlink."""


def push(
    mqtt_url: str,
    server: NetworkServer,
    topic: str,
    body: bytes,
    client_id: str,
    timeout_s: float = 10.0,
) -> None:
    """Publish `body` on `topic` and return once the broker has it (QoS 1) or it is
    written to the connection (QoS 0), the broker having accepted the connection first (a
    QoS 0 message sent on a refused connection would be lost unseen); DownlinkNotPushed
    otherwise."""
    client, url = mqtt_client(mqtt_url, client_id)
    where = f"{url.hostname}:{url.port or 1883}"
    answered, answers = threading.Event(), list[ReasonCode]()

    def on_connect(_: object, __: object, ___: object, reason: ReasonCode, ____: object) -> None:
        answers.append(reason)
        answered.set()

    client.on_connect = on_connect
    try:
        client.connect(url.hostname or "127.0.0.1", url.port or 1883, keepalive=30)
    except OSError as error:
        raise DownlinkNotPushed(f"MQTT broker {where} unreachable: {error}") from None
    client.loop_start()
    try:
        _require_accepted(answered, answers, where, timeout_s)
        message = client.publish(topic, body, qos=PUSH_QOS[server])
        message.wait_for_publish(timeout=timeout_s)
        if not message.is_published():
            raise DownlinkNotPushed(f"MQTT broker {where} did not take the downlink in time")
    except (RuntimeError, ValueError) as error:  # paho: the connection was lost meanwhile
        raise DownlinkNotPushed(f"MQTT broker {where}: {error}") from None
    finally:
        client.disconnect()
        client.loop_stop()


def _require_accepted(
    answered: threading.Event, answers: list[ReasonCode], where: str, timeout_s: float
) -> None:
    """Wait for the broker's CONNACK: accepted, or a one-line error."""
    if not answered.wait(timeout_s):
        raise DownlinkNotPushed(f"MQTT broker {where} did not answer within {timeout_s:g} s")
    if answers[0].is_failure:
        raise DownlinkNotPushed(f"MQTT broker {where} refused the connection: {answers[0]}")


class DownlinkEventListener(PersistentSubscriber):
    """Follows one network server's downlink events until `stop()` is called."""

    def __init__(
        self,
        mqtt_url: str,
        server: NetworkServer,
        topics: list[str],
        record: Callable[[DownlinkEvent], None],
        client_id: str,
    ) -> None:
        self._parse = EVENT_PARSERS[server]
        self._topics = topics
        self._record = record
        super().__init__(mqtt_url, client_id)
        self.client.on_connect = self._on_connect
        self.client.on_subscribe = self._on_subscribe

    def run(self) -> None:
        """Follow the events until `stop()` is called."""
        # An event that could not be recorded comes again at the next reconnection: at
        # most one a second while the database is away.
        self._serve(lambda: self._stopping.wait(1.0), lambda: None)

    def _on_connect(
        self, client: mqtt.Client, _: object, __: object, reason: ReasonCode, ___: object
    ) -> None:
        log.info("connected to MQTT %s:%s (%s)", self._url.hostname, self._url.port, reason)
        for topic in self._topics:
            client.subscribe(topic, qos=1)

    def _on_subscribe(self, *_: object) -> None:
        log.info("subscribed to %s", ", ".join(self._topics))

    def _on_message(self, client: mqtt.Client, _: object, message: mqtt.MQTTMessage) -> None:
        try:
            event = self._parse(message.topic, bytes(message.payload))
        except DownlinkEventError as error:
            log.warning("ignored a downlink event: %s", error)
            event = None
        try:
            if event is not None:
                self._record(event)
                log.info("downlink %s %s (%s)", event.downlink_id, event.state, message.topic)
        except Exception as error:  # the database away: not acknowledged, so it comes again
            log.error("could not record the event of %s: %s", message.topic, error)
            self.redeliver()
            return
        client.ack(message.mid, message.qos)
