"""Downlink events in the exact formats network servers publish them, for the tests.

- The Things Stack (MQTT server, `v3/{app}@{tenant}/devices/{id}/down/...`): the
  `ApplicationUp` JSON with `end_device_ids`, `correlation_ids` and one of
  `downlink_queued`, `downlink_sent`, `downlink_ack`, `downlink_nack` (an
  `ApplicationDownlink`: `f_port`, `f_cnt`, `frm_payload`, `confirmed`, `priority`,
  `correlation_ids`), or `downlink_failed` (`{"downlink": ..., "error": ...}`). Empty fields
  are omitted.
- ChirpStack v4 (`application/{app}/device/{devEui}/event/txack|ack`): the protobuf JSON
  mapping of `integration.TxAckEvent` and `integration.AckEvent`; `acknowledged` is
  omitted when false.
"""

from __future__ import annotations

import base64
import json
from typing import Any


def tts_downlink_event(
    kind: str,
    app: str,
    device_id: str,
    correlation_id: str,
    payload: bytes,
    *,
    f_port: int,
    confirmed: bool = False,
) -> bytes:
    """A The Things Stack `down/{kind}` message (queued, sent, ack, nack, failed)."""
    correlation_ids = [correlation_id, "as:downlink:01HDKJ0T6SFGJ7EB0M6QWDZG3D"]
    downlink: dict[str, Any] = {
        "session_key_id": "AYq5nqBx6w3Y1+0Q3YhI4Q==",
        "f_port": f_port,
        "frm_payload": base64.b64encode(payload).decode(),
        "priority": "NORMAL",
        "correlation_ids": correlation_ids,
    }
    if kind != "queued":
        downlink["f_cnt"] = 7
    if confirmed:
        downlink["confirmed"] = True
    body: Any = downlink
    if kind == "failed":
        body = {
            "downlink": downlink,
            "error": {
                "namespace": "pkg/networkserver",
                "name": "application_downlink_too_long",
                "message_format": "application downlink payload is too long",
                "code": 3,
            },
        }
    message = {
        "end_device_ids": {
            "device_id": device_id,
            "application_ids": {"application_id": app.split("@")[0]},
            "dev_eui": "70B3D57ED0000001",
        },
        "correlation_ids": correlation_ids,
        "received_at": "2026-12-02T07:00:01.123456789Z",
        f"downlink_{kind}": body,
    }
    return json.dumps(message).encode()


def chirpstack_downlink_event(
    kind: str, app: str, dev_eui: str, queue_item_id: str, *, acknowledged: bool = False
) -> bytes:
    """A ChirpStack v4 `txack` or `ack` event."""
    device_info = {
        "tenantId": "52f14cd4-c6f1-4fbd-8f87-4025e1d49242",
        "tenantName": "ChirpStack",
        "applicationId": app,
        "applicationName": "Building",
        "deviceProfileId": "3b5b0c6b-8e0b-4e1f-9a8a-4b2c9d1e7f10",
        "deviceProfileName": "Class A",
        "deviceName": "valve",
        "devEui": dev_eui.lower(),
    }
    event: dict[str, Any] = {"time": "2026-12-02T07:00:02.5Z", "deviceInfo": device_info}
    event["queueItemId"] = queue_item_id
    event["fCntDown"] = 7
    if kind == "txack":
        event["downlinkId"] = 3263238418
        event["gatewayId"] = "0016c001ff1a05c4"
        event["txInfo"] = {"frequency": 869525000, "power": 14}
    else:
        event["deduplicationId"] = "0ad1c5a4-3c6b-44a2-9b5a-1f7bb0e0a6e4"
        if acknowledged:
            event["acknowledged"] = True
    return json.dumps(event).encode()
