"""The generic JSON payload accepted over MQTT (see README, "Generic JSON payload").

{"time": "2026-11-25T10:00:00Z",            # ISO 8601 with zone, or epoch seconds;
                                             # optional: the reception time otherwise
 "values": {"index": 1234.5,                 # channel -> number
            "temperature": {"value": 21.5, "unit": "°C",
                            "time": "2026-11-25T09:50:00Z"}}}   # or an object
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from typing import Any

import orjson

from models.codecs.base import ChannelValue, DecodeError


def decode_generic_json(payload: bytes, received_at: datetime) -> list[ChannelValue]:
    document = _parse(payload)
    if not isinstance(document, dict):
        raise DecodeError("payload must be a JSON object")
    values = document.get("values")
    if not isinstance(values, dict) or not values:
        raise DecodeError("payload needs a non-empty object 'values' (channel -> value)")
    default_ts = _timestamp(document["time"]) if "time" in document else received_at
    return [_channel_value(channel, item, default_ts) for channel, item in values.items()]


def _parse(payload: bytes) -> Any:
    """orjson first (a quarter of the time); the standard parser for what orjson refuses and
    JSON-like devices send anyway (NaN, Infinity, integers beyond 64 bits) or for the error."""
    try:
        return orjson.loads(payload)
    except orjson.JSONDecodeError:
        pass
    try:
        return json.loads(payload)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise DecodeError(f"malformed JSON: {error}") from None


def _channel_value(channel: str, item: Any, default_ts: datetime) -> ChannelValue:
    if isinstance(item, dict):
        unknown = set(item) - {"value", "unit", "time"}
        if unknown:
            raise DecodeError(f"channel {channel!r}: unknown keys {sorted(unknown)}")
        unit = item.get("unit")
        if unit is not None and not isinstance(unit, str):
            raise DecodeError(f"channel {channel!r}: unit must be a string")
        ts = _timestamp(item["time"]) if "time" in item else default_ts
        return ChannelValue(channel, ts, _number(channel, item.get("value")), unit)
    return ChannelValue(channel, default_ts, _number(channel, item), None)


def _number(channel: str, value: Any) -> float:
    # NaN and infinities pass here on purpose: validation rejects them with a clearer reason.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise DecodeError(f"channel {channel!r}: value must be a number, got {value!r}")
    try:
        return float(value)
    except OverflowError:  # an integer too large for a float
        raise DecodeError(f"channel {channel!r}: value out of range") from None


def _timestamp(value: Any) -> datetime:
    if isinstance(value, bool):
        raise DecodeError(f"bad time {value!r}")
    if isinstance(value, int | float):
        if not math.isfinite(value):
            raise DecodeError(f"bad time {value!r}")
        try:
            return datetime.fromtimestamp(value, UTC)
        except (OverflowError, OSError, ValueError):
            raise DecodeError(f"time out of range: {value!r}") from None
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise DecodeError(f"time is not ISO 8601: {value!r}") from None
        if parsed.tzinfo is None:
            raise DecodeError(f"time needs a time zone (UTC 'Z' or an offset): {value!r}")
        return parsed.astimezone(UTC)
    raise DecodeError(f"time must be ISO 8601 text or epoch seconds, got {value!r}")
