"""Payload codecs reproduce their makers' published examples; any bytes decode or raise."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from models.codecs import CODECS, ChannelValue, DecodeError, WrongLength, WrongPort

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)

# TheThingsNetwork/lorawan-devices vendor/elsys/ers-co2-codec.yaml, example
# "ERS CO2 temperature, humidity, light, motion and co2" (fPort 1).
ELSYS_ERS_CO2 = bytes.fromhex("0100E202290400270506060308")
# TheThingsNetwork/lorawan-devices vendor/milesight-iot/em300-di-codec.yaml (fPort 85).
MILESIGHT_EM300_DI = bytes.fromhex("01755C05C800010000")
# github.com/Milesight-IoT/SensorDecoders em-series/em300-di/README.md, "Example".
MILESIGHT_EM300_DI_HISTORY = bytes.fromhex("01755C0367340104686520CE9E74466310015D020000010000")
# TheThingsNetwork/lorawan-devices vendor/axioma/qalcosonic-w1-codec.yaml, example
# "Enhanced 24h payload - Lackova" (fPort 100).
QALCOSONIC_W1_24H = bytes.fromhex(
    "01AEAC986A0032170000"  # version, meter time, status, log volume 5938 L
    "0000000000000000800380005400"
    "0E400510004800024002000020"  # 23 x 14-bit increments
    "0000000000000000000000000000"
)


def values(decoded: list[ChannelValue]) -> dict[str, float]:
    return {value.channel: value.value for value in decoded}


def test_elsys_ers_co2_published_example() -> None:
    decoded = CODECS["elsys-ers"](ELSYS_ERS_CO2, NOW, 1)
    assert values(decoded) == {
        "temperature": 22.6,
        "humidity": 41,
        "light": 39,
        "motion": 6,
        "co2": 776,
    }
    assert {v.channel: v.unit for v in decoded}["temperature"] == "°C"
    assert all(v.ts == NOW for v in decoded)


def test_elsys_negative_temperature_and_truncation() -> None:
    assert values(CODECS["elsys-ers"](bytes.fromhex("01FF9C"), NOW)) == {"temperature": -10.0}
    with pytest.raises(WrongLength, match="type 0x06"):
        CODECS["elsys-ers"](bytes.fromhex("0101000603"), NOW)
    with pytest.raises(DecodeError, match="unknown Elsys data type 0x42"):
        CODECS["elsys-ers"](bytes.fromhex("42"), NOW)


def test_milesight_em300_di_published_examples() -> None:
    assert values(CODECS["milesight-em300"](MILESIGHT_EM300_DI, NOW, 85)) == {
        "battery": 92,
        "pulse": 256,
    }
    decoded = CODECS["milesight-em300"](MILESIGHT_EM300_DI_HISTORY, NOW, 85)
    now = [(v.channel, v.value) for v in decoded if v.ts == NOW]
    history_ts = datetime.fromtimestamp(1665561758, UTC)
    history = [(v.channel, v.value) for v in decoded if v.ts == history_ts]
    assert now == [("battery", 92), ("temperature", 30.8), ("humidity", 50.5)]
    assert history == [("temperature", 27.2), ("humidity", 46.5), ("pulse", 256)]


def test_milesight_reads_any_data_port_as_its_published_decoders_do() -> None:
    # An EM300-TH as Milesight documents it, on port 1: battery 100 %, 27.3 °C, 54 %.
    em300_th = bytes.fromhex("0175640367110104686c")
    assert values(CODECS["milesight-em300"](em300_th, NOW, 1)) == {
        "battery": 100,
        "temperature": 27.3,
        "humidity": 54,
    }


def test_qalcosonic_w1_published_example() -> None:
    (reading,) = CODECS["axioma-qalcosonic-w1"](QALCOSONIC_W1_24H, NOW, 100)
    assert reading.channel == "current_volume_m3"
    assert math.isclose(reading.value, 6.054)
    assert reading.unit == "m3"
    assert reading.ts == datetime(2026, 9, 2, 23, 9, 34, tzinfo=UTC)  # the meter's own time


def test_qalcosonic_w1_length_and_port() -> None:
    with pytest.raises(WrongLength, match="51 bytes, not 50"):
        CODECS["axioma-qalcosonic-w1"](QALCOSONIC_W1_24H[:-1], NOW, 100)
    with pytest.raises(WrongPort):
        CODECS["axioma-qalcosonic-w1"](QALCOSONIC_W1_24H, NOW, 2)


@pytest.mark.parametrize("model", sorted(CODECS))
@given(
    payload=st.binary(max_size=80)
    | st.binary(min_size=51, max_size=51).map(lambda b: b"\x01" + b[1:])  # Qalcosonic's size
    | st.sampled_from([b'{"values": {"a": 1%s}}' % (b"0" * 400)]),
    f_port=st.none() | st.integers(1, 255),
)
def test_any_bytes_decode_or_raise_decode_error(
    model: str, payload: bytes, f_port: int | None
) -> None:
    try:
        decoded = CODECS[model](payload, NOW, f_port)
    except DecodeError:
        return
    assert all(isinstance(value, ChannelValue) for value in decoded)
    assert all(isinstance(value.value, float) for value in decoded)
