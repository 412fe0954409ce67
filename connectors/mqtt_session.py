"""An MQTT client for a broker URL `mqtt://[user[:password]@]host[:port]`."""

from __future__ import annotations

from urllib.parse import SplitResult, unquote, urlsplit

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion


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
