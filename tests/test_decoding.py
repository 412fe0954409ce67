"""From raw uplink to readings: codec, registry lookup, unit, value and time checks."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from importlib import resources

import pytest

from models.codecs import DecodeError
from models.codecs.generic_json import decode_generic_json
from models.dead_letter import RejectCode
from models.reading import QualityFlag
from models.registry_file import parse_registry
from models.uplink import RawUplink
from models.validation import DeviceIndex, decode_uplink

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
REGISTRY = parse_registry(
    resources.files("smati").joinpath("examples/demo-building.yaml").read_text()
)
INDEX = DeviceIndex.of(REGISTRY)


def uplink(device_id: str, payload: bytes | dict[str, object]) -> RawUplink:
    raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return RawUplink(source="mqtt", device_id=device_id, received_at=NOW, payload=raw)


def test_generic_json_numbers_objects_and_times() -> None:
    payload = {
        "time": 1764072000,
        "values": {"a": 1, "b": {"value": 2.5, "unit": "Wh", "time": "2026-11-25T10:00:00+01:00"}},
    }
    a, b = decode_generic_json(json.dumps(payload).encode(), NOW)
    assert (a.channel, a.value, a.unit, a.ts) == (
        "a",
        1.0,
        None,
        datetime.fromtimestamp(1764072000, UTC),
    )
    assert (b.value, b.unit, b.ts) == (2.5, "Wh", datetime(2026, 11, 25, 9, 0, tzinfo=UTC))


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (b"{not json", "malformed JSON"),
        (b"\xff\xfe", "malformed JSON"),
        (b"[1, 2]", "JSON object"),
        (b'{"values": {}}', "non-empty object"),
        (b'{"values": {"a": "12"}}', "must be a number"),
        (b'{"values": {"a": true}}', "must be a number"),
        (b'{"time": "2026-11-25T10:00:00", "values": {"a": 1}}', "time zone"),
        (b'{"time": "yesterday", "values": {"a": 1}}', "ISO 8601"),
        (b'{"time": 1e30, "values": {"a": 1}}', "out of range"),
        (b'{"values": {"a": {"value": 1, "colour": "red"}}}', "unknown keys"),
    ],
)
def test_generic_json_refuses_with_a_clear_reason(payload: bytes, message: str) -> None:
    with pytest.raises(DecodeError, match=message):
        decode_generic_json(payload, NOW)


def test_good_uplink_becomes_readings_of_the_mapped_usages() -> None:
    decoded = decode_uplink(
        uplink("paris-lobby-01", {"values": {"temperature": 21.5, "co2": 640}}), "raw/1/7", INDEX
    )
    assert decoded.rejections == []
    by_usage = {r.usage_id: r for r in decoded.readings}
    assert set(by_usage) == {"hotel-paris.lobby-temperature", "hotel-paris.lobby-co2"}
    temperature = by_usage["hotel-paris.lobby-temperature"]
    assert (temperature.value, temperature.unit, temperature.ts) == (21.5, "°C", NOW)
    assert (temperature.tenant_id, temperature.origin, temperature.source) == (
        "acme",
        "raw/1/7",
        "mqtt",
    )


def test_compatible_unit_is_converted_and_flagged() -> None:
    decoded = decode_uplink(
        uplink("paris-elec-01", {"values": {"index": {"value": 5_000_000, "unit": "Wh"}}}),
        "o",
        INDEX,
    )
    (reading,) = decoded.readings
    assert reading.value == 5000 and reading.unit == "kWh"
    assert reading.flags == (QualityFlag.CONVERTED_UNIT,)


@pytest.mark.parametrize(
    ("device", "payload", "code"),
    [
        ("ghost", {"values": {"index": 1}}, RejectCode.UNKNOWN_DEVICE),
        ("paris-elec-01", b"{oops", RejectCode.MALFORMED_PAYLOAD),
        ("paris-elec-01", b'{"values": {"index": NaN}}', RejectCode.INVALID_VALUE),
        ("paris-elec-01", b'{"values": {"index": Infinity}}', RejectCode.INVALID_VALUE),
        ("paris-elec-01", {"values": {"index": {"value": 1, "unit": "°F"}}}, RejectCode.WRONG_UNIT),
        ("paris-elec-01", {"values": {"volts": 1}}, RejectCode.UNKNOWN_CHANNEL),
        (
            "paris-elec-01",
            {"time": "2026-11-27T12:00:00Z", "values": {"index": 1}},
            RejectCode.FUTURE_TIMESTAMP,
        ),
        (
            "paris-elec-01",
            {"time": "1999-01-01T00:00:00Z", "values": {"index": 1}},
            RejectCode.ANCIENT_TIMESTAMP,
        ),
    ],
)
def test_bad_input_is_rejected_with_its_code(
    device: str, payload: bytes | dict[str, object], code: RejectCode
) -> None:
    decoded = decode_uplink(uplink(device, payload), "o", INDEX)
    assert decoded.readings == []
    (rejection,) = decoded.rejections
    assert rejection.code is code
    assert rejection.reason


def test_one_bad_channel_does_not_lose_the_good_one() -> None:
    payload = b'{"values": {"temperature": NaN, "co2": 700}}'
    decoded = decode_uplink(uplink("paris-lobby-01", payload), "o", INDEX)
    assert [r.usage_id for r in decoded.readings] == ["hotel-paris.lobby-co2"]
    assert [(r.code, r.channel) for r in decoded.rejections] == [
        (RejectCode.INVALID_VALUE, "temperature")
    ]


def test_small_clock_skew_is_tolerated() -> None:
    ahead = (NOW + timedelta(minutes=2)).isoformat()
    decoded = decode_uplink(
        uplink("paris-elec-01", {"time": ahead, "values": {"index": 1}}), "o", INDEX
    )
    assert len(decoded.readings) == 1


def test_envelope_round_trips_bytes_exactly() -> None:
    original = uplink("d", b"\x00\x01binary\xff")
    assert RawUplink.from_json(original.to_json()) == original
