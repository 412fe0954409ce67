"""Axioma Qalcosonic W1 ultrasonic water meter, enhanced 24-hour frame (port 100, 51 bytes).

Layout as in TheThingsNetwork/lorawan-devices vendor/axioma/qalcosonic-w1-codec.js:
frame version 0x01, meter time (uint32 LE, epoch seconds), status byte, volume at the
start of the log in litres (uint32 LE), then 23 hourly increments of 14 bits (LE bit
order) and a 6-bit multiplier. The reading is the current index, log volume plus the
increments, at the meter's time, in m3 (the published decoder's `current_volume_m3`).
"""

from __future__ import annotations

from datetime import UTC, datetime

from models.codecs.base import ChannelValue, Codec, DecodeError, WrongLength

LENGTH = 51
_INCREMENTS = 23


def _bits(payload: bytes, start_bit: int, count: int) -> int:
    """`count` bits from bit `start_bit` of `payload`, least significant bit first."""
    return (int.from_bytes(payload, "little") >> start_bit) & ((1 << count) - 1)


def decode_qalcosonic_w1(payload: bytes, _: datetime) -> list[ChannelValue]:
    if len(payload) != LENGTH:
        raise WrongLength(f"a Qalcosonic W1 frame has {LENGTH} bytes, not {len(payload)}")
    if payload[0] != 0x01:
        raise DecodeError(f"unsupported frame version 0x{payload[0]:02X}")
    meter_time = datetime.fromtimestamp(int.from_bytes(payload[1:5], "little"), UTC)
    log_litres = int.from_bytes(payload[6:10], "little")
    history = payload[10:]
    increments = sum(_bits(history, n * 14, 14) for n in range(_INCREMENTS))
    multiplier = _bits(history, _INCREMENTS * 14, 6)
    if multiplier != 0:
        raise DecodeError(f"history multiplier {multiplier} is not supported (only 0)")
    return [ChannelValue("current_volume_m3", meter_time, (log_litres + increments) / 1000, "m3")]


QALCOSONIC_W1 = Codec(decode_qalcosonic_w1, f_ports=frozenset({100}))
