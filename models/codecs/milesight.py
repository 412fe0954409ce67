"""Milesight EM300 series (EM300-TH, EM300-DI pulse counter...): channel, type, value.

Each item is a channel id, a type id and a little-endian value, as Milesight publishes
it (github.com/Milesight-IoT/SensorDecoders, em-series/em300-di/README.md) and as the
device repository of The Things Network decodes it (TheThingsNetwork/lorawan-devices
vendor/milesight-iot/em300-di.js). Measurements come on port 85 by default, but the port
is configurable and the published decoders ignore it: any data port is read. Historical records
(0x20 0xCE) carry their own time and become readings at that time. Device information
items (channel 0xFF) are read and skipped. The water-meter mode items (0x05 0xE1) are
refused: their published description does not fix the value's encoding.
"""

from __future__ import annotations

from datetime import UTC, datetime

from models.codecs.base import ChannelValue, Codec, DecodeError, need_length

# Channel 0xFF: device information, (type -> size); none of it is a measurement.
_INFO_SIZES = {0x01: 1, 0x09: 2, 0x0A: 2, 0xFF: 2, 0x16: 8, 0x0F: 1, 0xFE: 1, 0x0B: 1}


def _int(raw: bytes, signed: bool = False) -> int:
    return int.from_bytes(raw, "little", signed=signed)


def decode_em300(payload: bytes, ts: datetime) -> list[ChannelValue]:
    if len(payload) < 2:
        raise DecodeError(f"payload of {len(payload)} byte(s) holds no channel and type")
    values: list[ChannelValue] = []
    at = 0
    while at < len(payload):
        head = need_length(payload, at, 2, "channel and type")
        channel, kind = head[0], head[1]
        at += 2
        where = f"channel 0x{channel:02X} type 0x{kind:02X}"
        if channel == 0xFF and kind in _INFO_SIZES:
            need_length(payload, at, _INFO_SIZES[kind], where)
            at += _INFO_SIZES[kind]
        elif (channel, kind) == (0x01, 0x75):
            values.append(
                ChannelValue("battery", ts, float(need_length(payload, at, 1, where)[0]), "%")
            )
            at += 1
        elif (channel, kind) == (0x03, 0x67):
            raw = need_length(payload, at, 2, where)
            values.append(ChannelValue("temperature", ts, _int(raw, signed=True) / 10, "°C"))
            at += 2
        elif (channel, kind) == (0x04, 0x68):
            values.append(
                ChannelValue("humidity", ts, need_length(payload, at, 1, where)[0] / 2, "%")
            )
            at += 1
        elif (channel, kind) == (0x05, 0x00):
            values.append(
                ChannelValue("gpio", ts, float(need_length(payload, at, 1, where)[0]), None)
            )
            at += 1
        elif (channel, kind) == (0x05, 0xC8):
            values.append(
                ChannelValue("pulse", ts, float(_int(need_length(payload, at, 4, where))), None)
            )
            at += 4
        elif (channel, kind) == (0x20, 0xCE):
            values.extend(_history(need_length(payload, at, 13, where)))
            at += 13
        else:
            raise DecodeError(f"unsupported {where} at offset {at - 2}")
    return values


def _history(record: bytes) -> list[ChannelValue]:
    """timestamp(4) temperature(2) humidity(1) gpio_type(1) gpio(1) pulse(4)."""
    ts = datetime.fromtimestamp(_int(record[0:4]), UTC)
    values = [
        ChannelValue("temperature", ts, _int(record[4:6], signed=True) / 10, "°C"),
        ChannelValue("humidity", ts, record[6] / 2, "%"),
    ]
    gpio_type = record[7]
    if gpio_type == 1:
        values.append(ChannelValue("gpio", ts, float(record[8]), None))
    elif gpio_type == 2:
        values.append(ChannelValue("pulse", ts, float(_int(record[9:13])), None))
    else:
        raise DecodeError(f"historical record: unknown gpio type {gpio_type}")
    return values


MILESIGHT_EM300 = Codec(decode_em300)
