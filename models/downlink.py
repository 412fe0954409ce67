"""Downlinks: payloads SMATI asks a network server to send to a device, and their state.

Each network server has its own way (formats from its documentation):

- The Things Stack: `{"downlinks": [{"f_port", "frm_payload" (base64), "priority",
  "confirmed", "correlation_ids"}]}` published on `v3/{app}@{tenant}/devices/{id}/down/push`
  (`v3/{app}/...` on an open-source deployment, which has no tenant). It reports on
  `.../down/queued|sent|ack|nack|failed`, each message carrying the correlation ids the
  downlink was pushed with: SMATI's `smati:downlink:{id}` tells which downlink it is.
- ChirpStack v4: the `DownlinkCommand` `{"id", "devEui", "confirmed", "fPort", "data"}`
  published on `application/{app}/device/{devEui}/command/down`; `event/txack` (a gateway
  took it for transmission) and `event/ack` (`acknowledged`, or absent when the device did
  not acknowledge in time) carry `queueItemId`, the id SMATI gave.
- Sigfox: nothing is pushed. A device that listens (a bidirectional uplink, `ack` in the
  data callback) gets the 8 bytes queued for it in the callback's HTTP reply,
  `{"<device id>": {"downlinkData": "<16 hex digits>"}}`.

A downlink's state only moves forward, queued -> sent -> acknowledged, or to failed; an
event repeated or arriving late changes nothing.
"""

from __future__ import annotations

import base64
import json
import re
import uuid
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field, ValidationError

from models.bindings import DeviceBinding
from models.errors import SmatiError
from models.registry import NetworkServer

CORRELATION_PREFIX = "smati:downlink:"
LORAWAN_PORTS = range(1, 224)
"""Application ports: 0 carries MAC commands only, 224 is the certification test port."""
LORAWAN_MAX_BYTES = 242
"""The largest application payload LoRaWAN carries, at the fastest data rate."""
SIGFOX_DOWNLINK_BYTES = 8


class DownlinkState(StrEnum):
    QUEUED = "queued"
    SENT = "sent"
    ACKNOWLEDGED = "acknowledged"
    FAILED = "failed"


_RANK = {
    DownlinkState.QUEUED: 0,
    DownlinkState.SENT: 1,
    DownlinkState.ACKNOWLEDGED: 2,
    DownlinkState.FAILED: 2,
}


def states_before(state: DownlinkState) -> tuple[DownlinkState, ...]:
    """The states a downlink may leave for `state`: those before it (acknowledged and
    failed are both final)."""
    return tuple(s for s, rank in _RANK.items() if rank < _RANK[state])


class DownlinkRefused(SmatiError, ValueError):
    """A downlink that cannot be sent as asked (port, length, no network to send it)."""


@dataclass(frozen=True)
class Downlink:
    """One downlink as asked: checked against what its network can carry."""

    id: uuid.UUID
    tenant_id: str
    device_id: str
    route: DeviceBinding
    """Where it goes: the device's network server, application and id there."""
    f_port: int | None
    payload: bytes
    confirmed: bool = False

    def __post_init__(self) -> None:
        if self.route.server is NetworkServer.SIGFOX:
            _check_sigfox(self.f_port, self.payload, self.confirmed)
        else:
            _check_lorawan(self.f_port, self.payload)

    def failed(self, reason: str) -> DownlinkEvent:
        """The event of this downlink when SMATI could not hand it to its network server."""
        return DownlinkEvent(self.id, self.route, DownlinkState.FAILED, reason)


def _check_sigfox(f_port: int | None, payload: bytes, confirmed: bool) -> None:
    if f_port is not None:
        raise DownlinkRefused("a Sigfox downlink has no port: leave --port out")
    if confirmed:
        raise DownlinkRefused("a Sigfox downlink cannot be confirmed")
    if len(payload) != SIGFOX_DOWNLINK_BYTES:
        raise DownlinkRefused(
            f"a Sigfox downlink is exactly {SIGFOX_DOWNLINK_BYTES} bytes, got {len(payload)}"
        )


def _check_lorawan(f_port: int | None, payload: bytes) -> None:
    if f_port not in LORAWAN_PORTS:
        raise DownlinkRefused(f"a LoRaWAN downlink needs a port from 1 to 223, got {f_port}")
    if len(payload) > LORAWAN_MAX_BYTES:
        raise DownlinkRefused(
            f"a LoRaWAN downlink carries at most {LORAWAN_MAX_BYTES} bytes, got {len(payload)}"
        )


def push_message(downlink: Downlink) -> tuple[str, bytes]:
    """The MQTT topic and body that queue `downlink` on its LoRaWAN network server."""
    route, data = downlink.route, base64.b64encode(downlink.payload).decode()
    if route.server is NetworkServer.TTS:
        application = route.application
        if route.network_tenant:
            application = f"{application}@{route.network_tenant}"
        topic = f"v3/{application}/devices/{route.network_device_id}/down/push"
        item = {
            "f_port": downlink.f_port,
            "frm_payload": data,
            "priority": "NORMAL",
            "confirmed": downlink.confirmed,
            "correlation_ids": [f"{CORRELATION_PREFIX}{downlink.id}"],
        }
        return topic, json.dumps({"downlinks": [item]}).encode()
    if route.server is NetworkServer.CHIRPSTACK:
        dev_eui = route.network_device_id.lower()  # as ChirpStack writes it
        topic = f"application/{route.application}/device/{dev_eui}/command/down"
        command = {
            "id": str(downlink.id),
            "devEui": dev_eui,
            "confirmed": downlink.confirmed,
            "fPort": downlink.f_port,
            "data": data,
        }
        return topic, json.dumps(command).encode()
    raise DownlinkRefused("Sigfox downlinks are not pushed: they answer the device's callback")


def sigfox_reply(network_device_id: str, payload: bytes) -> dict[str, dict[str, str]]:
    """The body answering a bidirectional Sigfox data callback with `payload`."""
    return {network_device_id: {"downlinkData": payload.hex()}}


@dataclass(frozen=True)
class DownlinkEvent:
    """What a network server said of one of SMATI's downlinks."""

    downlink_id: uuid.UUID
    route: DeviceBinding
    """Where it goes: the device's network server, application and id there."""
    state: DownlinkState
    detail: str = ""


EVENT_TOPICS = {
    NetworkServer.TTS: "v3/+/devices/+/down/+",
    NetworkServer.CHIRPSTACK: "application/+/device/+/event/+",
}
"""What to subscribe to for the downlink events of every application of a server."""

_TTS_TOPIC = re.compile(
    r"^v3/(?P<app>[^/@]+)(@(?P<tenant>[^/]+))?/devices/(?P<dev>[^/]+)/down/(?P<kind>[^/]+)$"
)
_TTS_STATES = {
    "queued": DownlinkState.QUEUED,
    "sent": DownlinkState.SENT,
    "ack": DownlinkState.ACKNOWLEDGED,
    "failed": DownlinkState.FAILED,
}
"""`nack` is left out: The Things Stack queues a downlink the device did not acknowledge
again, so it is no outcome."""
_CHIRPSTACK_TOPIC = re.compile(
    r"^application/(?P<app>[^/]+)/device/(?P<dev>[^/]+)/event/(?P<kind>[^/]+)$"
)


class DownlinkEventError(SmatiError, ValueError):
    """A downlink event that is not in its network server's format."""


def parse_tts_event(topic: str, body: bytes) -> DownlinkEvent | None:
    """The event of one of SMATI's downlinks in a The Things Stack message; None for any
    other message (another topic, someone else's downlink, a `nack`)."""
    match = _TTS_TOPIC.match(topic)
    if match is None or match["kind"] not in _TTS_STATES:
        return None
    message = _json_object(body, topic)
    downlink = message.get(f"downlink_{match['kind']}") or {}
    if match["kind"] == "failed":
        downlink = downlink.get("downlink") or {}
    ids = [*message.get("correlation_ids", []), *downlink.get("correlation_ids", [])]
    downlink_id = _smati_id(ids)
    if downlink_id is None:
        return None
    route = DeviceBinding(NetworkServer.TTS, match["app"], match["tenant"], match["dev"])
    detail = _tts_error(message) if match["kind"] == "failed" else ""
    return DownlinkEvent(downlink_id, route, _TTS_STATES[match["kind"]], detail)


class _ChirpstackDownlinkEvent(BaseModel):
    queueItemId: uuid.UUID
    acknowledged: bool = False
    gatewayId: str = ""
    fCntDown: int = Field(default=0, ge=0)


def parse_chirpstack_event(topic: str, body: bytes) -> DownlinkEvent | None:
    """The event of one of SMATI's downlinks in a ChirpStack v4 `txack` or `ack` event;
    None for other events."""
    match = _CHIRPSTACK_TOPIC.match(topic)
    if match is None or match["kind"] not in ("txack", "ack"):
        return None
    try:
        event = _ChirpstackDownlinkEvent.model_validate_json(body)
    except ValidationError as error:
        raise DownlinkEventError(
            f"{topic}: not a ChirpStack {match['kind']} event: {error}"
        ) from None
    route = DeviceBinding(NetworkServer.CHIRPSTACK, match["app"], None, match["dev"].upper())
    if match["kind"] == "txack":
        detail = f"gateway {event.gatewayId}" if event.gatewayId else ""
        return DownlinkEvent(event.queueItemId, route, DownlinkState.SENT, detail)
    if event.acknowledged:
        return DownlinkEvent(event.queueItemId, route, DownlinkState.ACKNOWLEDGED)
    detail = "the device did not acknowledge it in time"
    return DownlinkEvent(event.queueItemId, route, DownlinkState.FAILED, detail)


EVENT_PARSERS = {
    NetworkServer.TTS: parse_tts_event,
    NetworkServer.CHIRPSTACK: parse_chirpstack_event,
}


def _json_object(body: bytes, topic: str) -> dict[str, Any]:
    try:
        message = json.loads(body)
    except ValueError as error:
        raise DownlinkEventError(f"{topic}: not JSON: {error}") from None
    if not isinstance(message, dict):
        raise DownlinkEventError(f"{topic}: not a JSON object")
    return message


def _smati_id(correlation_ids: list[Any]) -> uuid.UUID | None:
    for value in correlation_ids:
        if isinstance(value, str) and value.startswith(CORRELATION_PREFIX):
            try:
                return uuid.UUID(value.removeprefix(CORRELATION_PREFIX))
            except ValueError:
                return None
    return None


def _tts_error(message: dict[str, Any]) -> str:
    error = (message.get("downlink_failed") or {}).get("error") or {}
    name = ":".join(str(error[key]) for key in ("namespace", "name") if key in error)
    text = error.get("message_format", "")
    return " ".join(part for part in (name, text) if part) or "The Things Stack could not send it"
