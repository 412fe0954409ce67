"""Whose device a message is: the topic's and the body's device and application agree,
the application is bound to a tenant, and the device is that tenant's."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from radio_messages import (
    CHIRPSTACK_APP,
    GLOBEX_SIGFOX_TYPE,
    TTS_APP,
    chirpstack_uplink,
    radio_site,
    sigfox_callback,
    tts_uplink,
)

from models.dead_letter import RejectCode, Rejection
from models.identity import identify
from models.network_servers import FRAME_PARSERS
from models.registry import Device
from models.uplink import RawUplink
from models.validation import DeviceIndex, decode_uplink

AT = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
INDEX = DeviceIndex.of(radio_site())
ELSYS = bytes.fromhex("0100E202290400270506060308")
ELSYS_EUI, MILESIGHT_EUI = "70B3D57ED0000001", "24E124136B000002"


def tts(topic: str, body: bytes) -> RawUplink:
    """A TTS message as the MQTT connector wraps it: the device id is the topic's."""
    device_id = topic.split("/")[3]
    return RawUplink(
        source="tts", device_id=device_id, received_at=AT, payload=body, metadata={"topic": topic}
    )


def verdict(uplink: RawUplink) -> str | tuple[RejectCode, str]:
    """The device found, or the refusal's code and reason."""
    found = identify(uplink, FRAME_PARSERS[uplink.source](uplink.payload, AT), INDEX)
    return (found.code, found.reason) if isinstance(found, Rejection) else found[0].id


def elsys_body(
    device_id: str = "elsys-meeting-room", application: str = TTS_APP, tenant_id: str | None = None
) -> bytes:
    return tts_uplink(
        device_id,
        ELSYS_EUI,
        ELSYS,
        f_port=5,
        f_cnt=1,
        at=AT,
        application=application,
        tenant_id=tenant_id,
    )


def test_a_tts_message_of_a_bound_application_finds_its_device() -> None:
    topic = "v3/smati-hq@acme-corp/devices/elsys-meeting-room/up"
    assert verdict(tts(topic, elsys_body())) == "elsys-meeting-room"
    assert verdict(tts(topic, elsys_body(tenant_id="acme-corp"))) == "elsys-meeting-room"


@pytest.mark.parametrize(
    ("topic", "body", "reason"),
    [
        (  # the body's device belongs to another tenant: not stored under the topic's
            "v3/smati-hq@acme-corp/devices/elsys-meeting-room/up",
            elsys_body("globex-sensor"),
            "the topic names device 'elsys-meeting-room', the message's body 'globex-sensor'",
        ),
        (
            "v3/smati-hq@acme-corp/devices/elsys-meeting-room/up",
            elsys_body(application="plant"),
            "the topic names application 'smati-hq', the message's body 'plant'",
        ),
        (
            "v3/smati-hq@acme-corp/devices/elsys-meeting-room/up",
            elsys_body(tenant_id="globex"),
            "the topic names tenant 'acme-corp', the message's body 'globex'",
        ),
    ],
)
def test_topic_and_body_must_agree(topic: str, body: bytes, reason: str) -> None:
    assert verdict(tts(topic, body)) == (RejectCode.DEVICE_MISMATCH, reason)


def test_a_mismatch_yields_no_reading_and_no_device() -> None:
    """Nothing of either device is touched: the stream keys frame counters by `device`."""
    topic = "v3/smati-hq@acme-corp/devices/elsys-meeting-room/up"
    decoded = decode_uplink(tts(topic, elsys_body("globex-sensor")), "o", INDEX)
    assert (decoded.readings, decoded.device, decoded.refused) == ([], None, True)
    assert [r.code for r in decoded.rejections] == [RejectCode.DEVICE_MISMATCH]


def test_an_application_bound_to_no_tenant_is_refused() -> None:
    topic = "v3/smati-hq@ttn/devices/elsys-meeting-room/up"
    assert verdict(tts(topic, elsys_body())) == (
        RejectCode.UNBOUND_APPLICATION,
        "The Things Stack application 'smati-hq'@ttn is bound to no tenant in the registry",
    )


def test_another_tenant_s_application_cannot_name_this_tenant_s_device() -> None:
    topic = "v3/plant@globex/devices/elsys-meeting-room/up"
    assert verdict(tts(topic, elsys_body(application="plant"))) == (
        RejectCode.UNKNOWN_DEVICE,
        "device 'elsys-meeting-room' is not registered for tenant 'globex'",
    )


def test_chirpstack_topic_and_body_name_the_same_dev_eui_in_any_case() -> None:
    body = chirpstack_uplink(MILESIGHT_EUI, b"", f_port=85, f_cnt=1, at=AT)

    def message(device: str, application: str = CHIRPSTACK_APP) -> RawUplink:
        topic = f"application/{application}/device/{device}/event/up"
        return RawUplink(
            source="chirpstack",
            device_id=device,
            received_at=AT,
            payload=body,
            metadata={"topic": topic},
        )

    assert verdict(message(MILESIGHT_EUI.lower())) == "milesight-pulse-01"
    assert verdict(message(ELSYS_EUI.lower()))[0] == RejectCode.DEVICE_MISMATCH
    assert verdict(message(MILESIGHT_EUI.lower(), CHIRPSTACK_APP.upper())) == "milesight-pulse-01"
    other = "0c1e0d3f-0000-4000-8000-000000000000"
    assert verdict(message(MILESIGHT_EUI.lower(), other))[0] == RejectCode.DEVICE_MISMATCH


def test_a_sigfox_callback_without_its_device_type_is_refused() -> None:
    body = sigfox_callback("1A2B3C", b"\x01\x00\xc8", seq=1, at=AT)
    message = RawUplink(
        source="sigfox",
        device_id="1A2B3C",
        received_at=AT,
        payload=body.replace(b'"deviceTypeId"', b'"type"'),
        metadata={"tenant": "acme"},
    )
    assert verdict(message) == (
        RejectCode.UNBOUND_APPLICATION,
        "the message names no Sigfox device type: the registry binds them to tenants",
    )


def test_a_webhook_call_takes_only_its_own_tenant_s_applications() -> None:
    body = sigfox_callback("BEEF01", b"\x01\x00\xc8", seq=1, at=AT, device_type=GLOBEX_SIGFOX_TYPE)

    def posted_by(tenant: str) -> RawUplink:
        return RawUplink(
            source="sigfox",
            device_id="BEEF01",
            received_at=AT,
            payload=body,
            metadata={"tenant": tenant},
        )

    assert verdict(posted_by("globex")) == "globex-sensor"
    assert verdict(posted_by("acme"))[0] == RejectCode.UNBOUND_APPLICATION


def _without_dev_eui(body: bytes) -> bytes:
    """A TTS message of an ABP device registered without a DevEUI: TTS leaves it out."""
    message = json.loads(body)
    del message["end_device_ids"]["dev_eui"]
    return json.dumps(message).encode()


def test_a_tts_device_without_dev_eui_is_found_by_its_network_id() -> None:
    body = tts_uplink("qalcosonic-7", "0004A30B00000003", b"", f_port=100, f_cnt=1, at=AT)
    topic = "v3/smati-hq@acme-corp/devices/qalcosonic-7/up"
    assert verdict(tts(topic, _without_dev_eui(body))) == "axioma-water-01"


@pytest.mark.parametrize(
    "device_id",
    [
        "elsys-meeting-room",  # a registry id, whose transceiver is another DevEUI
        "axioma-water-01",  # a registry id, of a device known on TTS as qalcosonic-7
    ],
)
def test_a_tts_device_named_like_another_registered_device_is_not_that_device(
    device_id: str,
) -> None:
    unregistered_eui = "70B3D57ED00000FF"
    body = tts_uplink(device_id, unregistered_eui, ELSYS, f_port=5, f_cnt=1, at=AT)
    topic = f"v3/smati-hq@acme-corp/devices/{device_id}/up"
    assert verdict(tts(topic, body)) == (
        RejectCode.UNKNOWN_DEVICE,
        f"unknown device {device_id!r}: not in the registry",
    )
    if device_id == "axioma-water-01":
        assert verdict(tts(topic, _without_dev_eui(body)))[0] == RejectCode.UNKNOWN_DEVICE


def test_a_tts_device_id_is_looked_up_in_its_own_application() -> None:
    """TTS device ids are unique per application: globex's may be named as acme's."""
    site = radio_site()
    globex_twin = Device(
        id="globex-abp",
        tenant="globex",
        binding="globex-tts",
        network_id="qalcosonic-7",
        channels={"t": "plant.temperature"},
    )
    index = DeviceIndex.of(site.model_copy(update={"devices": (*site.devices, globex_twin)}))
    body = tts_uplink("qalcosonic-7", None, b"", f_port=100, f_cnt=1, at=AT)
    for application, owner in (
        ("smati-hq@acme-corp", "axioma-water-01"),
        ("plant@globex", "globex-abp"),
    ):
        topic = f"v3/{application}/devices/qalcosonic-7/up"
        message = tts(topic, body.replace(b'"smati-hq"', f'"{application.split("@")[0]}"'.encode()))
        found = identify(message, FRAME_PARSERS["tts"](message.payload, AT), index)
        assert not isinstance(found, Rejection) and found[0].id == owner, found
