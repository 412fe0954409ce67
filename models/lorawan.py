"""The uplink messages of LoRaWAN network servers: The Things Stack v3 and ChirpStack v4.

- The Things Stack: the JSON of its MQTT server (topic
  `v3/{application id}@{tenant id}/devices/{device id}/up`) and of its webhooks, the same
  document (https://www.thethingsindustries.com/docs/integrations/data-formats/). Empty
  fields are omitted, so a missing `f_cnt` or `f_port` is 0 (port 0: MAC commands only).
- ChirpStack v4: the `up` event of its MQTT integration (topic
  `application/{application id}/device/{dev eui}/event/up`), the protobuf JSON mapping of
  `integration.UplinkEvent` (https://www.chirpstack.io/docs/chirpstack/integrations/events.html);
  default values (fCnt 0) are omitted too.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any

from pydantic import AwareDatetime, BaseModel, BeforeValidator, Field, ValidationError

from models.radio import FrameFormatError, RadioFrame, Reception, base64_bytes, describe

Base64 = Annotated[bytes, BeforeValidator(base64_bytes)]
Port = Annotated[int, Field(ge=0, le=255)]
Counter = Annotated[int, Field(ge=0, lt=1 << 32)]


class _TtsGatewayIds(BaseModel):
    gateway_id: str = Field(min_length=1)


class _TtsRxMetadata(BaseModel):
    gateway_ids: _TtsGatewayIds
    rssi: float | None = None
    snr: float | None = None


class _TtsUplinkMessage(BaseModel):
    f_port: Port = 0
    f_cnt: Counter = 0
    frm_payload: Base64 = b""
    decoded_payload: dict[str, Any] | None = None
    rx_metadata: list[_TtsRxMetadata] = []


class _TtsApplicationIds(BaseModel):
    application_id: str = Field(min_length=1)
    tenant_id: str | None = None


class _TtsEndDeviceIds(BaseModel):
    device_id: str = Field(min_length=1)
    application_ids: _TtsApplicationIds
    dev_eui: str | None = None


class TtsUplink(BaseModel):
    """`end_device_ids`, `received_at` and `uplink_message` of a TTS uplink message."""

    end_device_ids: _TtsEndDeviceIds
    received_at: AwareDatetime
    uplink_message: _TtsUplinkMessage


def parse_tts(raw: bytes, _: datetime) -> RadioFrame:
    try:
        message = TtsUplink.model_validate_json(raw)
    except ValidationError as error:
        raise describe("a The Things Stack uplink message", error) from None
    uplink, ids = message.uplink_message, message.end_device_ids
    return RadioFrame(
        network_id=ids.device_id,
        dev_eui=_eui(ids.dev_eui),
        application=ids.application_ids.application_id,
        network_tenant=ids.application_ids.tenant_id,
        time=message.received_at,
        f_port=uplink.f_port,
        f_cnt=uplink.f_cnt,
        payload=uplink.frm_payload,
        decoded=uplink.decoded_payload,
        receptions=tuple(
            Reception(gateway_id=rx.gateway_ids.gateway_id, rssi=rx.rssi, snr=rx.snr)
            for rx in uplink.rx_metadata
        ),
    )


class _ChirpstackDeviceInfo(BaseModel):
    devEui: str = Field(pattern=r"^[0-9A-Fa-f]{16}$")
    applicationId: str = Field(min_length=1)


class _ChirpstackRxInfo(BaseModel):
    gatewayId: str = Field(min_length=1)
    rssi: float | None = None
    snr: float | None = None


class ChirpstackUplink(BaseModel):
    """The fields of ChirpStack v4's `up` event that SMATI uses."""

    deviceInfo: _ChirpstackDeviceInfo
    time: AwareDatetime | None = None
    fPort: Port = 0
    fCnt: Counter = 0
    data: Base64 = b""
    object: dict[str, Any] | None = None
    rxInfo: list[_ChirpstackRxInfo] = []


def parse_chirpstack(raw: bytes, received_at: datetime) -> RadioFrame:
    try:
        event = ChirpstackUplink.model_validate_json(raw)
    except ValidationError as error:
        raise describe("a ChirpStack v4 uplink event", error) from None
    dev_eui = _eui(event.deviceInfo.devEui)
    assert dev_eui is not None  # the pattern requires it
    return RadioFrame(
        network_id=dev_eui,
        dev_eui=dev_eui,
        application=event.deviceInfo.applicationId,
        time=event.time or received_at,
        f_port=event.fPort,
        f_cnt=event.fCnt,
        payload=event.data,
        decoded=event.object,
        receptions=tuple(
            Reception(gateway_id=rx.gatewayId, rssi=rx.rssi, snr=rx.snr) for rx in event.rxInfo
        ),
    )


_TOPIC_APPLICATION = {
    "tts": re.compile(r"^v3/(?P<application>[^/@]+)(@(?P<tenant>[^/]+))?/devices/[^/]+/up$"),
    "chirpstack": re.compile(r"^application/(?P<application>[^/]+)/device/[^/]+/event/up$"),
}


def topic_application(source: str, topic: str) -> tuple[str, str | None] | None:
    """The application (and The Things Stack's tenant id) an uplink's MQTT topic names, in
    its network server's layout; None for a topic in another layout."""
    pattern = _TOPIC_APPLICATION.get(source)
    match = pattern.match(topic) if pattern else None
    if match is None:
        return None
    return match.group("application"), match.groupdict().get("tenant")


def _eui(value: str | None) -> str | None:
    """EUIs compare in upper case: ChirpStack writes them in lower case, TTS in upper."""
    return value.upper() if value else None


__all__ = [
    "ChirpstackUplink",
    "FrameFormatError",
    "TtsUplink",
    "parse_chirpstack",
    "parse_tts",
    "topic_application",
]
