"""An MQTT client for a broker URL `mqtt://[user[:password]@]host[:port]`."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from urllib.parse import SplitResult, unquote, urlsplit

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

log = logging.getLogger(__name__)


def mqtt_client(
    url: str, client_id: str, *, clean_session: bool = True, manual_ack: bool = False
) -> tuple[mqtt.Client, SplitResult]:
    """An MQTT 3.1.1 client (The Things Stack speaks no other) with the URL's credentials,
    not yet connected; and the URL's parts."""
    parts = urlsplit(url)
    client = mqtt.Client(
        CallbackAPIVersion.VERSION2,
        client_id=client_id,
        clean_session=clean_session,
        protocol=mqtt.MQTTv311,
        manual_ack=manual_ack,
    )
    if parts.username:  # percent-encoded in the URL: a TTS user is `app@tenant`
        password = parts.password
        client.username_pw_set(unquote(parts.username), unquote(password) if password else None)
    return client, parts


class PersistentSubscriber:
    """An MQTT session kept across reconnections (QoS 1 subscriptions, persistent session,
    manual acknowledgement): a message is acknowledged only once handled, and `redeliver()`
    reconnects so that the broker sends the unacknowledged ones again."""

    def __init__(self, mqtt_url: str, client_id: str) -> None:
        self.client, self._url = mqtt_client(
            mqtt_url, client_id, clean_session=False, manual_ack=True
        )
        self.client.reconnect_delay_set(min_delay=1, max_delay=30)
        self._stopping = threading.Event()
        self._needs_reconnect = threading.Event()

    def stop(self) -> None:
        self._stopping.set()

    def redeliver(self) -> None:
        self._needs_reconnect.set()

    def _serve(self, tick: Callable[[], object], before_disconnect: Callable[[], object]) -> None:
        """Connect, then call `tick` (which should wait a little) until stopped."""
        self.client.connect_async(self._url.hostname or "127.0.0.1", self._url.port or 1883)
        self.client.loop_start()
        try:
            while not self._stopping.is_set():
                tick()
                if self._needs_reconnect.is_set():
                    self._needs_reconnect.clear()
                    log.warning("reconnecting to MQTT so that unacknowledged messages come again")
                    self.client.reconnect()
        finally:
            before_disconnect()
            self.client.disconnect()
            self.client.loop_stop()
