"""Network servers' messages -> radio frames -> readings: TTS, ChirpStack v4, Sigfox."""

from __future__ import annotations

import contextlib
import json
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from radio_messages import (
    CHIRPSTACK_APP,
    GLOBEX_SIGFOX_TYPE,
    SIGFOX_TYPE,
    chirpstack_uplink,
    radio_site,
    sigfox_callback,
    sigfox_form,
    tts_uplink,
)

from models.dead_letter import RejectCode
from models.network_servers import FRAME_PARSERS
from models.radio import FrameFormatError, RadioFrame, Reception
from models.uplink import RawUplink
from models.validation import Decoded, DeviceIndex, decode_uplink

AT = datetime(2026, 11, 25, 11, 59, 30, tzinfo=UTC)
NOW = AT + timedelta(seconds=1)
INDEX = DeviceIndex.of(radio_site())
ELSYS = bytes.fromhex("0100E202290400270506060308")  # 22.6 °C, 41 %, 39 lx, 6, 776 ppm
EM300_DI = bytes.fromhex("01755C05C800010000")  # battery 92 %, 256 pulses


def uplink(source: str, device_id: str, payload: bytes, **metadata: object) -> RawUplink:
    return RawUplink(
        source=source, device_id=device_id, received_at=NOW, payload=payload, metadata=metadata
    )


def test_tts_uplink_message() -> None:
    raw = tts_uplink(
        "elsys-meeting-room",
        "70B3D57ED0000001",
        ELSYS,
        f_port=5,
        f_cnt=42,
        at=AT,
        gateways=(("gtw-roof", -71.0, 9.25), ("gtw-hall", -98.0, -3.5)),
        tenant_id="acme-corp",
    )
    frame = FRAME_PARSERS["tts"](raw, NOW)
    assert frame == RadioFrame(
        network_id="elsys-meeting-room",
        dev_eui="70B3D57ED0000001",
        application="smati-hq",
        network_tenant="acme-corp",
        time=AT,
        f_port=5,
        f_cnt=42,
        payload=ELSYS,
        receptions=(
            Reception(gateway_id="gtw-roof", rssi=-71.0, snr=9.25),
            Reception(gateway_id="gtw-hall", rssi=-98.0, snr=-3.5),
        ),
    )
    assert frame.metadata()["gateways"][1] == {"gateway_id": "gtw-hall", "rssi": -98.0, "snr": -3.5}


def test_tts_omits_a_zero_frame_counter() -> None:
    raw = tts_uplink("d", "70B3D57ED0000001", ELSYS, f_port=5, f_cnt=0, at=AT)
    assert FRAME_PARSERS["tts"](raw, NOW).f_cnt == 0


def test_chirpstack_uplink_event() -> None:
    raw = chirpstack_uplink("24E124136B000002", EM300_DI, f_port=85, f_cnt=7, at=AT)
    frame = FRAME_PARSERS["chirpstack"](raw, NOW)
    assert (frame.network_id, frame.dev_eui, frame.f_port, frame.f_cnt) == (
        "24E124136B000002",
        "24E124136B000002",
        85,
        7,
    )
    assert frame.application == CHIRPSTACK_APP
    assert frame.payload == EM300_DI
    assert frame.receptions == (Reception(gateway_id="0016c001f153a14c", rssi=-36, snr=10.5),)


def test_sigfox_callback_with_numbers_as_text() -> None:
    frame = FRAME_PARSERS["sigfox"](
        sigfox_callback("1a2b3c", b"\x01\x00\xe2", seq=4095, at=AT), NOW
    )
    assert (frame.network_id, frame.f_cnt, frame.counter_modulus) == ("1A2B3C", 4095, 4096)
    assert frame.time == AT.replace(microsecond=0)
    assert frame.receptions == (Reception(gateway_id="1D44", rssi=-123.0, snr=18.86),)
    assert frame.application == SIGFOX_TYPE


def test_a_form_encoded_sigfox_callback_is_the_same_frame() -> None:
    """The backend's default content type, application/x-www-form-urlencoded."""
    form = sigfox_form("1a2b3c", b"\x01\x00\xe2", seq=4095, at=AT)
    assert form.startswith(b"device=1a2b3c&deviceTypeId=")
    json_body = sigfox_callback("1a2b3c", b"\x01\x00\xe2", seq=4095, at=AT)
    assert FRAME_PARSERS["sigfox"](form, NOW) == FRAME_PARSERS["sigfox"](json_body, NOW)


@pytest.mark.parametrize(
    ("source", "raw", "message"),
    [
        ("tts", b"{not json", "Invalid JSON"),
        ("tts", json.dumps({"end_device_ids": {"device_id": "d"}}).encode(), "uplink_message"),
        ("tts", json.dumps({"end_device_ids": {"device_id": "d"}}).encode(), "application_ids"),
        (
            "tts",
            tts_uplink("d", "E", ELSYS, f_port=5, f_cnt=1, at=AT).replace(
                b'"AQDiAikEACcFBgYDCA=="', b'"AQ!*"'
            ),
            "frm_payload: Value error, not base64",
        ),
        (
            "tts",
            tts_uplink("d", "E", ELSYS, f_port=5, f_cnt=1, at=AT).replace(
                b'"f_port": 5', b'"f_port": 256'
            ),
            "f_port",
        ),
        ("chirpstack", b"[]", "ChirpStack"),
        ("chirpstack", chirpstack_uplink("XYZ", ELSYS, f_port=1, f_cnt=1, at=AT), "devEui"),
        (
            "chirpstack",
            chirpstack_uplink("24E124136B000002", ELSYS, f_port=1, f_cnt=1, at=AT).replace(
                b'"applicationId"', b'"application"'
            ),
            "deviceInfo.applicationId: Field required",
        ),
        (
            "sigfox",
            json.dumps({"device": "1A2B3C", "time": 1, "data": "zz"}).encode(),
            "hexadecimal",
        ),
        (
            "sigfox",
            json.dumps({"device": "1A2B3C", "time": 1, "data": "00" * 13}).encode(),
            "12 at most",
        ),
        ("sigfox", json.dumps({"time": 1, "data": "00"}).encode(), "device"),
        ("sigfox", b"device=1A2B3C&time=1&data=zz", "hexadecimal"),
        ("sigfox", b"device=1A2B3C&&time", "bad query field"),
        ("sigfox", "device=1A2B3C&data=é".encode(), "not ASCII"),
    ],
)
def test_malformed_messages_say_what_is_wrong(source: str, raw: bytes, message: str) -> None:
    with pytest.raises(FrameFormatError, match=message):
        FRAME_PARSERS[source](raw, NOW)


@pytest.mark.parametrize("source", sorted(FRAME_PARSERS))
@given(raw=st.binary(max_size=200) | st.text(max_size=200).map(str.encode))
def test_any_bytes_parse_or_raise_frame_format_error(source: str, raw: bytes) -> None:
    with contextlib.suppress(FrameFormatError):
        FRAME_PARSERS[source](raw, NOW)


def readings(decoded: Decoded) -> dict[str, float]:
    return {r.usage_id: r.value for r in decoded.readings}


def test_tts_uplink_decoded_by_the_device_codec_mapped_channels_only() -> None:
    raw = tts_uplink("elsys-meeting-room", "70B3D57ED0000001", ELSYS, f_port=5, f_cnt=1, at=AT)
    topic = "v3/smati-hq@acme-corp/devices/elsys-meeting-room/up"
    decoded = decode_uplink(uplink("tts", "elsys-meeting-room", raw, topic=topic), "o", INDEX)
    assert readings(decoded) == {
        "hq.meeting-temperature": 22.6,
        "hq.meeting-humidity": 41,
        "hq.meeting-co2": 776,
    }  # light and motion are not mapped: not read
    assert decoded.rejections == []
    assert {r.ts for r in decoded.readings} == {AT}
    assert {(r.source, r.device_id) for r in decoded.readings} == {("tts", "elsys-meeting-room")}


def test_chirpstack_device_found_by_its_dev_eui() -> None:
    raw = chirpstack_uplink("24E124136B000002", EM300_DI, f_port=85, f_cnt=3, at=AT)
    decoded = decode_uplink(uplink("chirpstack", "24e124136b000002", raw), "o", INDEX)
    assert readings(decoded) == {"hq.electricity-pulses": 256}
    assert decoded.device is not None and decoded.device.id == "milesight-pulse-01"


def test_server_decoded_payload_used_only_from_a_trusted_source() -> None:
    decoded_payload = {"pulse": 300, "battery": 90, "note": "server side"}
    raw = chirpstack_uplink(
        "24E124136B000002", EM300_DI, f_port=85, f_cnt=3, at=AT, decoded=decoded_payload
    )
    message = uplink("chirpstack", "24e124136b000002", raw)
    trusted = decode_uplink(message, "o", INDEX, trusted_sources=frozenset({"chirpstack"}))
    assert readings(trusted) == {"hq.electricity-pulses": 300}
    assert readings(decode_uplink(message, "o", INDEX)) == {"hq.electricity-pulses": 256}


@pytest.mark.parametrize(
    ("raw", "code", "reason"),
    [
        (
            chirpstack_uplink("0004A30B00000003", EM300_DI, f_port=2, f_cnt=3, at=AT),
            RejectCode.WRONG_PORT,
            "f_port 2 carries no measurements (expected [100])",
        ),
        (
            chirpstack_uplink("24E124136B000002", EM300_DI[:-1], f_port=85, f_cnt=3, at=AT),
            RejectCode.WRONG_LENGTH,
            "needs 4 byte(s)",
        ),
        (
            chirpstack_uplink("24E124136B00FFFF", EM300_DI, f_port=85, f_cnt=3, at=AT),
            RejectCode.UNKNOWN_DEVICE,
            "not in the registry",
        ),
        (b"{}", RejectCode.MALFORMED_PAYLOAD, "not a ChirpStack v4 uplink event"),
    ],
)
def test_refused_uplinks(raw: bytes, code: RejectCode, reason: str) -> None:
    named = json.loads(raw).get("deviceInfo", {}).get("devEui", "24e124136b00ffff")
    decoded = decode_uplink(uplink("chirpstack", named, raw), "o", INDEX)
    assert decoded.refused
    (rejection,) = decoded.rejections
    assert rejection.code == code
    assert reason in rejection.reason


def test_sigfox_device_of_another_tenant_is_refused() -> None:
    raw = sigfox_callback(
        "BEEF01", bytes.fromhex("0100C8"), seq=1, at=AT, device_type=GLOBEX_SIGFOX_TYPE
    )
    accepted = decode_uplink(uplink("sigfox", "BEEF01", raw, tenant="globex"), "o", INDEX)
    assert readings(accepted) == {"plant.temperature": 20.0}
    # globex's callback posted with acme's secret; then globex's device in acme's type
    refused = decode_uplink(uplink("sigfox", "BEEF01", raw, tenant="acme"), "o", INDEX)
    assert [r.code for r in refused.rejections] == [RejectCode.UNBOUND_APPLICATION]
    assert f"Sigfox device type {GLOBEX_SIGFOX_TYPE!r} is not bound to tenant 'acme'" in (
        refused.rejections[0].reason
    )
    raw = sigfox_callback("BEEF01", bytes.fromhex("0100C8"), seq=1, at=AT)
    refused = decode_uplink(uplink("sigfox", "BEEF01", raw, tenant="acme"), "o", INDEX)
    assert [r.code for r in refused.rejections] == [RejectCode.UNKNOWN_DEVICE]
    assert "not registered for tenant 'acme'" in refused.rejections[0].reason
