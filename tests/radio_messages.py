"""Uplinks in the exact formats network servers send, for the radio tests.

- The Things Stack uplink message: https://www.thethingsindustries.com/docs/integrations/data-formats/
  (`end_device_ids`, `received_at`, `uplink_message` with `f_port`, `f_cnt`,
  `frm_payload` in base64, `decoded_payload`, `rx_metadata`, `settings`...).
- ChirpStack v4 `up` event: https://www.chirpstack.io/docs/chirpstack/integrations/events.html
  (`deduplicationId`, `time`, `deviceInfo`, `devAddr`, `fCnt`, `fPort`, `data` in base64,
  `object`, `rxInfo`, `txInfo`).
- Sigfox custom data callback, body template with `{device}`, `{deviceTypeId}`, `{time}`,
  `{data}`, `{seqNumber}`, `{station}`, `{rssi}`, `{snr}` (Sigfox backend documentation,
  "Callbacks"), in JSON or form-encoded (the backend's default content type).

Their applications are those radio_site.yaml binds to tenant acme, unless told otherwise.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from models.registry import Registry
from models.registry_file import parse_registry

SITE_YAML = Path(__file__).with_name("radio_site.yaml").read_text()
TTS_APP, TTS_TENANT = "smati-hq", "acme-corp"
CHIRPSTACK_APP = "17c82e96-be03-4f38-aef3-f83d48582d97"
SIGFOX_TYPE, GLOBEX_SIGFOX_TYPE = "5f3a1e8c9b7d6e0012345678", "6b4c2f9dab8e7f0012345678"


def radio_site() -> Registry:
    return parse_registry(SITE_YAML, "radio_site.yaml")


def _b64(payload: bytes) -> str:
    return base64.b64encode(payload).decode()


def server_time(at: datetime) -> str:
    """A time as The Things Stack and ChirpStack write it: RFC 3339 in nanoseconds, UTC."""
    return f"{at.astimezone(UTC):%Y-%m-%dT%H:%M:%S.%f}000Z"


def tts_uplink(
    device_id: str,
    dev_eui: str | None,
    payload: bytes,
    *,
    f_port: int,
    f_cnt: int,
    at: datetime,
    decoded: dict[str, Any] | None = None,
    gateways: tuple[tuple[str, float, float], ...] = (("gtw-roof", -71.0, 9.25),),
    application: str = TTS_APP,
    tenant_id: str | None = None,
) -> bytes:
    """A TTS uplink message; `tenant_id` in its application ids where given (the topic
    `v3/{application}@{tenant}/...` names it otherwise). TTS omits empty fields: a frame
    counter or port of 0, the DevEUI of a device that has none (ABP)."""
    application_ids = {"application_id": application}
    if tenant_id is not None:
        application_ids["tenant_id"] = tenant_id
    uplink: dict[str, Any] = {
        "session_key_id": "AXA50...",
        "f_port": f_port,
        "frm_payload": _b64(payload),
        "rx_metadata": [
            {
                "gateway_ids": {"gateway_id": gateway, "eui": "9C5C8E00001A05C4"},
                "time": server_time(at),
                "timestamp": 2463457000,
                "rssi": rssi,
                "channel_rssi": rssi,
                "snr": snr,
                "uplink_token": "ChIKEA...",
                "channel_index": 2,
            }
            for gateway, rssi, snr in gateways
        ],
        "settings": {
            "data_rate": {"lora": {"bandwidth": 125000, "spreading_factor": 7}},
            "coding_rate": "4/6",
            "frequency": "868500000",
        },
        "received_at": server_time(at),
        "consumed_airtime": "0.056576s",
    }
    if f_cnt:
        uplink["f_cnt"] = f_cnt
    if not f_port:
        del uplink["f_port"]
    if decoded is not None:
        uplink["decoded_payload"] = decoded
    device_ids = {
        "device_id": device_id,
        "application_ids": application_ids,
        "dev_eui": dev_eui,
        "join_eui": "800000000000000C",
        "dev_addr": "00BCB929",
    }
    message = {
        "end_device_ids": {key: value for key, value in device_ids.items() if value},
        "correlation_ids": ["as:up:01E0WZGT6Y7657CPFPE5WEYDSQ"],
        "received_at": server_time(at),
        "uplink_message": uplink,
    }
    return json.dumps(message).encode()


def chirpstack_uplink(
    dev_eui: str,
    payload: bytes,
    *,
    f_port: int,
    f_cnt: int,
    at: datetime,
    decoded: dict[str, Any] | None = None,
    gateways: tuple[tuple[str, float, float], ...] = (("0016c001f153a14c", -36.0, 10.5),),
    application: str = CHIRPSTACK_APP,
) -> bytes:
    event: dict[str, Any] = {
        "deduplicationId": "3ac7e3c4-4401-4b8d-9386-a5c902f9202d",
        "time": server_time(at),
        "deviceInfo": {
            "tenantId": "52f14cd4-c6f1-4fbd-8f87-4025e1d49242",
            "tenantName": "ChirpStack",
            "applicationId": application,
            "applicationName": "Test application",
            "deviceProfileId": "14855bf7-d10d-4aee-b618-ebfcb64dc7ad",
            "deviceProfileName": "Test device-profile",
            "deviceName": "Test device",
            "devEui": dev_eui.lower(),
            "tags": {"key": "value"},
        },
        "devAddr": "00189440",
        "dr": 1,
        "fPort": f_port,
        "data": _b64(payload),
        "rxInfo": [
            {
                "gatewayId": gateway,
                "uplinkId": 4217106255,
                "rssi": rssi,
                "snr": snr,
                "context": "E3OWOQ==",
                "metadata": {"region_name": "eu868", "region_common_name": "EU868"},
            }
            for gateway, rssi, snr in gateways
        ],
        "txInfo": {
            "frequency": 867100000,
            "modulation": {
                "lora": {"bandwidth": 125000, "spreadingFactor": 11, "codeRate": "CR_4_5"}
            },
        },
    }
    if f_cnt:  # the protobuf JSON mapping omits default values
        event["fCnt"] = f_cnt
    if decoded is not None:
        event["object"] = decoded
    return json.dumps(event).encode()


def sigfox_variables(
    device: str,
    payload: bytes,
    *,
    seq: int,
    at: datetime,
    device_type: str = SIGFOX_TYPE,
    station: tuple[str, float, float] = ("1D44", -123.0, 18.86),
) -> dict[str, str]:
    """A data callback's variables as the backend fills them in a template (all text)."""
    station_id, rssi, snr = station
    return {
        "device": device,
        "deviceTypeId": device_type,
        "time": str(int(at.timestamp())),
        "data": payload.hex(),
        "seqNumber": str(seq),
        "station": station_id,
        "rssi": f"{rssi:.2f}",
        "snr": f"{snr:.2f}",
        "avgSnr": "15.54",
        "duplicate": "false",
    }


def sigfox_callback(device: str, payload: bytes, *, seq: int, at: datetime, **others: Any) -> bytes:
    """The body of a custom JSON callback whose template quotes every variable."""
    return json.dumps(sigfox_variables(device, payload, seq=seq, at=at, **others)).encode()


def sigfox_form(device: str, payload: bytes, *, seq: int, at: datetime, **others: Any) -> bytes:
    """The same callback in the backend's default content type, a URL-encoded form."""
    return urlencode(sigfox_variables(device, payload, seq=seq, at=at, **others)).encode()


__all__ = [
    "CHIRPSTACK_APP",
    "GLOBEX_SIGFOX_TYPE",
    "SIGFOX_TYPE",
    "TTS_APP",
    "TTS_TENANT",
    "chirpstack_uplink",
    "radio_site",
    "server_time",
    "sigfox_callback",
    "sigfox_form",
    "tts_uplink",
]
