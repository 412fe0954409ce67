"""Elsys ERS family (ERS, ERS CO2, ERS Lite, ERS Eye, EMS...): the Elsys generic payload.

A sequence of (type byte, value) pairs, big-endian, as Elsys publishes it
(https://www.elsys.se/en/elsys-payload/; the decoder of The Things Network's device
repository: TheThingsNetwork/lorawan-devices vendor/elsys/elsys.js). Channel names are
that decoder's field names, so a network server's decoded payload maps to the same
registry channels. Unlike the published decoder, an unknown type is an error, not the
silent end of the payload.
"""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from models.codecs.base import ChannelValue, Codec, DecodeError, WrongLength, need_length


class _Field(NamedTuple):
    channel: str | None  # None: read and skipped (not a measurement)
    size: int
    signed: bool
    divisor: float
    unit: str | None


_TYPES: dict[int, tuple[_Field, ...]] = {
    0x01: (_Field("temperature", 2, True, 10, "°C"),),
    0x02: (_Field("humidity", 1, False, 1, "%"),),
    0x03: (
        _Field("x", 1, True, 1, None),
        _Field("y", 1, True, 1, None),
        _Field("z", 1, True, 1, None),
    ),
    0x04: (_Field("light", 2, False, 1, "lx"),),
    0x05: (_Field("motion", 1, False, 1, None),),
    0x06: (_Field("co2", 2, False, 1, "ppm"),),
    0x07: (_Field("vdd", 2, False, 1, "mV"),),
    0x08: (_Field("analog1", 2, False, 1, "mV"),),
    0x0A: (_Field("pulse1", 2, False, 1, None),),
    0x0B: (_Field("pulseAbs", 4, False, 1, None),),
    0x0C: (_Field("externalTemperature", 2, True, 10, "°C"),),
    0x0D: (_Field("digital", 1, False, 1, None),),
    0x0E: (_Field("distance", 2, False, 1, "mm"),),
    0x0F: (_Field("accMotion", 1, False, 1, None),),
    0x10: (
        _Field("irInternalTemperature", 2, True, 10, "°C"),
        _Field("irExternalTemperature", 2, True, 10, "°C"),
    ),
    0x11: (_Field("occupancy", 1, False, 1, None),),
    0x12: (_Field("waterleak", 1, False, 1, None),),
    0x14: (_Field("pressure", 4, False, 1000, "hPa"),),
    0x15: (_Field("soundPeak", 1, False, 1, "dB"), _Field("soundAvg", 1, False, 1, "dB")),
    0x16: (_Field("pulse2", 2, False, 1, None),),
    0x17: (_Field("pulseAbs2", 4, False, 1, None),),
    0x18: (_Field("analog2", 2, False, 1, "mV"),),
    0x1A: (_Field("digital2", 1, False, 1, None),),
    0x1B: (_Field("analogUv", 4, True, 1, "uV"),),
    0x1C: (_Field("tvoc", 2, False, 1, "ppb"),),
    0x3D: (_Field(None, 4, False, 1, None),),  # debug information
}


def decode_elsys(payload: bytes, ts: datetime) -> list[ChannelValue]:
    if not payload:
        raise WrongLength("empty payload")
    values: list[ChannelValue] = []
    at = 0
    while at < len(payload):
        kind = payload[at]
        fields = _TYPES.get(kind)
        if fields is None:
            raise DecodeError(f"unknown Elsys data type 0x{kind:02X} at offset {at}")
        at += 1
        for field in fields:
            raw = need_length(payload, at, field.size, f"type 0x{kind:02X}")
            at += field.size
            if field.channel is not None:
                number = int.from_bytes(raw, "big", signed=field.signed) / field.divisor
                values.append(ChannelValue(field.channel, ts, number, field.unit))
    return values


ELSYS = Codec(decode_elsys)
"""Elsys sensors report on port 5 by default, but the port is configurable: any port."""
