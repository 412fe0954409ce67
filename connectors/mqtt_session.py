"""An MQTT client for a broker URL `mqtt://[user[:password]@]host[:port]`."""

from __future__ import annotations

import logging
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from urllib.parse import SplitResult, unquote, urlsplit

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

log = logging.getLogger(__name__)

QUIET_S = 0.25
"""A stopping subscriber disconnects once no message came for this long..."""
DRAIN_S = 5.0
"""... or after this long at most."""


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


class PersistentSubscriber(ABC):
    """An MQTT session kept across reconnections (QoS 1 subscriptions, persistent session,
    manual acknowledgement): a message is acknowledged only once handled, and `redeliver()`
    reconnects so that the broker sends the unacknowledged ones again.

    Once stopping, it handles no new message (left unacknowledged, the broker sends it again
    to the next session), sees to those it handled, and disconnects once the broker has
    gone quiet: nothing it handled comes again (see `_wait_for_quiet`)."""

    def __init__(self, mqtt_url: str, client_id: str) -> None:
        self.client, self._url = mqtt_client(
            mqtt_url, client_id, clean_session=False, manual_ack=True
        )
        self.client.reconnect_delay_set(min_delay=1, max_delay=30)
        self._stopping = threading.Event()
        self._needs_reconnect = threading.Event()
        self._handling = threading.Lock()
        """Held while a message is handled: once stopping, the last one handled is seen to."""
        self._heard = threading.Event()
        """Set by every message that comes, handled or not."""
        self.client.on_message = self._receive

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
            with self._handling:  # no message is handled after this one: see to them all
                before_disconnect()
            self._wait_for_quiet()
            self.client.disconnect()
            self.client.loop_stop()

    def _wait_for_quiet(self) -> None:
        """Until the broker has stopped sending (it does once its in-flight window is full
        of messages left unacknowledged), for at most DRAIN_S.

        Closing a socket with bytes unread makes the kernel reset the connection, and the
        broker then drops what it had not read yet: the last acknowledgements, whose
        messages it would send again (twice in Kafka, for the connector)."""
        deadline = time.monotonic() + DRAIN_S
        self._heard.clear()
        while self._heard.wait(QUIET_S) and time.monotonic() < deadline:
            self._heard.clear()

    def _receive(self, client: mqtt.Client, userdata: object, message: mqtt.MQTTMessage) -> None:
        self._heard.set()
        with self._handling:
            if not self._stopping.is_set():
                self._on_message(client, userdata, message)

    @abstractmethod
    def _on_message(self, client: mqtt.Client, _: object, message: mqtt.MQTTMessage) -> None:
        """Handle a message, and acknowledge it once it is (`client.ack`)."""
