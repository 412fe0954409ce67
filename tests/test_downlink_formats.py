"""Downlinks in the network servers' own formats: what SMATI publishes, what it reads back."""

from __future__ import annotations

import base64
import json
import uuid

import pytest
from network_downlinks import chirpstack_downlink_event, tts_downlink_event

from models.bindings import DeviceBinding
from models.downlink import (
    Downlink,
    DownlinkEventError,
    DownlinkRefused,
    DownlinkState,
    parse_chirpstack_event,
    parse_tts_event,
    push_message,
    sigfox_reply,
    states_before,
)
from models.registry import NetworkServer

ID = uuid.UUID("0f9c3c1e-2b7a-4d0e-9a55-7c2f3e8d1b10")
TTS = DeviceBinding(NetworkServer.TTS, "hq", "acme-tti", "valve-3")
CHIRPSTACK = DeviceBinding(
    NetworkServer.CHIRPSTACK, "8d3c0e9a-6a86-4c1e-9b1f-0c2d3e4f5a6b", None, "70B3D57ED0000001"
)
SIGFOX = DeviceBinding(NetworkServer.SIGFOX, "5f2a1b3c4d5e6f7a8b9c0d1e", None, "1A2B3C")


def test_the_things_stack_push_is_its_documented_message() -> None:
    downlink = Downlink(ID, "acme", "valve-3", TTS, 15, bytes.fromhex("BEEF"), confirmed=True)
    topic, body = push_message(downlink)
    assert topic == "v3/hq@acme-tti/devices/valve-3/down/push"
    assert json.loads(body) == {
        "downlinks": [
            {
                "f_port": 15,
                "frm_payload": "vu8=",
                "priority": "NORMAL",
                "confirmed": True,
                "correlation_ids": [f"smati:downlink:{ID}"],
            }
        ]
    }


def test_an_open_source_the_things_stack_has_no_tenant_in_its_topic() -> None:
    route = DeviceBinding(NetworkServer.TTS, "hq", None, "valve-3")
    topic, _ = push_message(Downlink(ID, "acme", "valve-3", route, 1, b"\x01"))
    assert topic == "v3/hq/devices/valve-3/down/push"


def test_chirpstack_push_is_its_downlink_command() -> None:
    downlink = Downlink(ID, "acme", "valve-4", CHIRPSTACK, 10, bytes.fromhex("0102"))
    topic, body = push_message(downlink)
    app = CHIRPSTACK.application
    assert topic == f"application/{app}/device/70b3d57ed0000001/command/down"
    assert json.loads(body) == {
        "id": str(ID),
        "devEui": "70b3d57ed0000001",
        "confirmed": False,
        "fPort": 10,
        "data": base64.b64encode(bytes.fromhex("0102")).decode(),
    }


def test_sigfox_reply_is_the_backends_format_and_nothing_is_pushed() -> None:
    payload = bytes.fromhex("0011223344556677")
    assert sigfox_reply("1A2B3C", payload) == {"1A2B3C": {"downlinkData": "0011223344556677"}}
    with pytest.raises(DownlinkRefused, match="not pushed"):
        push_message(Downlink(ID, "acme", "temp-1", SIGFOX, None, payload))


@pytest.mark.parametrize(
    ("route", "port", "payload", "message"),
    [
        (TTS, 0, b"\x01", "port from 1 to 223, got 0"),
        (TTS, 224, b"\x01", "port from 1 to 223, got 224"),
        (CHIRPSTACK, None, b"\x01", "port from 1 to 223, got None"),
        (TTS, 1, bytes(243), "at most 242 bytes, got 243"),
        (SIGFOX, None, bytes(7), "exactly 8 bytes, got 7"),
        (SIGFOX, 2, bytes(8), "no port"),
    ],
)
def test_what_the_network_cannot_carry_is_refused(
    route: DeviceBinding, port: int | None, payload: bytes, message: str
) -> None:
    with pytest.raises(DownlinkRefused, match=message):
        Downlink(ID, "acme", "d", route, port, payload)


@pytest.mark.parametrize(
    ("kind", "state"),
    [
        ("queued", DownlinkState.QUEUED),
        ("sent", DownlinkState.SENT),
        ("ack", DownlinkState.ACKNOWLEDGED),
        ("failed", DownlinkState.FAILED),
    ],
)
def test_the_things_stack_events_name_the_downlink_by_its_correlation_id(
    kind: str, state: DownlinkState
) -> None:
    body = tts_downlink_event(
        kind, "hq@acme-tti", "valve-3", f"smati:downlink:{ID}", b"\xbe", f_port=15
    )
    event = parse_tts_event(f"v3/hq@acme-tti/devices/valve-3/down/{kind}", body)
    assert event is not None
    assert (event.downlink_id, event.route, event.state) == (ID, TTS, state)
    if kind == "failed":
        assert event.detail == (
            "pkg/networkserver:application_downlink_too_long "
            "application downlink payload is too long"
        )


def test_the_things_stack_messages_that_are_not_smati_outcomes_are_passed_over() -> None:
    ours = f"smati:downlink:{ID}"
    nack = tts_downlink_event("nack", "hq@acme-tti", "valve-3", ours, b"\xbe", f_port=15)
    assert parse_tts_event("v3/hq@acme-tti/devices/valve-3/down/nack", nack) is None
    console = tts_downlink_event("sent", "hq@acme-tti", "valve-3", "console:x", b"\xbe", f_port=15)
    assert parse_tts_event("v3/hq@acme-tti/devices/valve-3/down/sent", console) is None
    assert parse_tts_event("v3/hq@acme-tti/devices/valve-3/up", b"{}") is None
    with pytest.raises(DownlinkEventError, match="not JSON"):
        parse_tts_event("v3/hq@acme-tti/devices/valve-3/down/sent", b"{oops")


def test_chirpstack_events_name_the_downlink_by_its_queue_item_id() -> None:
    app, topic = (
        CHIRPSTACK.application,
        f"application/{CHIRPSTACK.application}/device/70b3d57ed0000001/event",
    )
    txack = parse_chirpstack_event(
        f"{topic}/txack", chirpstack_downlink_event("txack", app, "70B3D57ED0000001", str(ID))
    )
    assert txack is not None
    assert (txack.downlink_id, txack.route, txack.state) == (ID, CHIRPSTACK, DownlinkState.SENT)
    assert txack.detail == "gateway 0016c001ff1a05c4"
    acked = chirpstack_downlink_event("ack", app, "70B3D57ED0000001", str(ID), acknowledged=True)
    event = parse_chirpstack_event(f"{topic}/ack", acked)
    assert event is not None and event.state is DownlinkState.ACKNOWLEDGED
    timed_out = chirpstack_downlink_event("ack", app, "70B3D57ED0000001", str(ID))
    event = parse_chirpstack_event(f"{topic}/ack", timed_out)
    assert event is not None and event.state is DownlinkState.FAILED
    assert parse_chirpstack_event(f"{topic}/up", b"{}") is None
    with pytest.raises(DownlinkEventError, match="not a ChirpStack ack event"):
        parse_chirpstack_event(f"{topic}/ack", b'{"queueItemId": "not-a-uuid"}')


def test_states_only_move_forward() -> None:
    assert states_before(DownlinkState.QUEUED) == ()
    assert states_before(DownlinkState.SENT) == (DownlinkState.QUEUED,)
    assert set(states_before(DownlinkState.ACKNOWLEDGED)) == {
        DownlinkState.QUEUED,
        DownlinkState.SENT,
    }
    assert states_before(DownlinkState.FAILED) == states_before(DownlinkState.ACKNOWLEDGED)
