"""A simulated demo building: the registry's devices publishing over MQTT, with defects.

`building_messages` is deterministic for a seed: the same history and the same defects,
so the demo and its tests know what must be found. Defects injected, by usage type:
- index: a glitch (one low reading), a meter reset to zero, a rollover at `index_max`;
- consumption: a negative value;
- instant: a value above `max` for a while, a value below `min`;
- once, at ONE_OFF_ANOMALY_STEP, a consumption three times the usual (an anomaly);
and bad messages: malformed JSON, an unknown device, NaN, a wrong unit, a time in the
future, and one message published twice.

`history_messages` is the building's past, hourly, for the reports: seasons (heating and
gas follow the outdoor temperature), a meter reset, a device silent for three days.
"""

from __future__ import annotations

import itertools
import json
import math
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from models.reading import UsageType
from models.registry import Registry, Usage, UsageRef

DEVICE_TOPIC = "smati/devices/{device_id}/up"
DEFECT_CYCLE = 60
"""Steps after which the same defects come again (5 minutes at the demo's 5 s step)."""
ONE_OFF_ANOMALY_STEP = 600
"""The step (50 minutes in, at 5 s) where the boiler draws three times its usual heat, once:
under its max, so only the anomaly detector can see it, once past its warm-up."""


@dataclass(frozen=True)
class Message:
    topic: str
    payload: bytes
    note: str = ""
    """What defect, if any, this message carries (for the demo's summary and the tests)."""


@dataclass
class _Meter:
    """One usage's simulated signal."""

    usage: Usage
    value: float
    rng: random.Random

    def next_value(self, at: datetime) -> float:
        kind = self.usage.type
        if kind is UsageType.INDEX:
            self.value += abs(self.rng.gauss(1.0, 0.3))
            if self.usage.index_max is not None and self.value >= self.usage.index_max:
                self.value -= self.usage.index_max
            return round(self.value, 3)
        if kind is UsageType.CONSUMPTION:
            return round(max(0.0, self.rng.gauss(10.0, 2.0)), 3)
        day = 2 * math.pi * (at.hour * 3600 + at.minute * 60 + at.second) / 86400
        low, high = self.usage.min, self.usage.max
        if low is None and high is None:  # no thresholds: the outdoor air, say
            centre, spread = 12.0, 4.0
        else:
            centre = (
                (low + high) / 2 if low is not None and high is not None else (high or 100) * 0.6
            )
            spread = ((high or centre * 1.5) - centre) * 0.3
        return round(centre + spread * math.sin(day) + self.rng.gauss(0, spread * 0.1), 2)


def _start_value(ref: UsageRef, rng: random.Random) -> float:
    if ref.usage.index_max is not None:  # start near the top so the demo shows a rollover
        return ref.usage.index_max - 30.0
    return 10_000.0 + rng.uniform(0, 1000) if ref.usage.type is UsageType.INDEX else 0.0


def building_messages(
    registry: Registry,
    start: datetime,
    step: timedelta,
    seed: int = 7,
    indexes: dict[str, float] | None = None,
) -> Iterator[tuple[datetime, Message]]:
    """(time, message) of every device at every step from `start` on, defects included.

    Endless and in time order: take the history you need, then go on live. Index meters
    start from `indexes` where given (where an earlier history left them).
    """
    rng = random.Random(seed)
    refs = {ref.usage.id: ref for ref in registry.usage_refs()}
    meters = {uid: _Meter(ref.usage, _start_value(ref, rng), rng) for uid, ref in refs.items()}
    for usage_id, value in (indexes or {}).items():
        meters[usage_id].value = value
    for n in itertools.count():
        at = start + n * step
        for device in registry.devices:
            values: dict[str, Any] = {}
            notes = []
            for channel, usage_id in device.channels.items():
                value = meters[usage_id].next_value(at)
                value, note = _inject_defect(meters[usage_id], n % DEFECT_CYCLE, value)
                if n == ONE_OFF_ANOMALY_STEP and refs[usage_id].usage.type is UsageType.CONSUMPTION:
                    value, note = round(value * 3, 3), "three times the usual consumption"
                values[channel] = value
                notes += [note] if note else []
            payload = {"time": at.isoformat(), "values": values}
            topic = DEVICE_TOPIC.format(device_id=device.id)
            yield at, Message(topic, json.dumps(payload).encode(), ", ".join(notes))


def _inject_defect(meter: _Meter, n: int, value: float) -> tuple[float, str]:
    """The defect, if any, of step `n` of the defect cycle."""
    usage = meter.usage
    if usage.type is UsageType.INDEX and usage.index_max is None:
        if n == 12 and usage.id.startswith("hotel-paris"):
            return round(value - 400.0, 3), "index glitch"
        if n == 36 and usage.id.startswith("office-lyon"):
            meter.value = 0.5
            return 0.5, "meter reset"
    if usage.type is UsageType.CONSUMPTION and n == 24:
        return -3.5, "negative consumption"
    if usage.type is UsageType.INSTANT and usage.max is not None and 48 <= n < 52:
        return usage.max * 1.3, "above max"
    if usage.type is UsageType.INSTANT and usage.min is not None and n == 54:
        return usage.min - 5.0, "below min"
    return value, ""


def bad_messages(registry: Registry, at: datetime) -> list[Message]:
    """One message of each kind of bad input the stream must dead-letter with its reason."""
    device = registry.devices[0]
    channel = next(iter(device.channels))
    topic = DEVICE_TOPIC.format(device_id=device.id)
    time = at.isoformat()

    def payload(values: dict[str, Any], when: str = time) -> bytes:
        return json.dumps({"time": when, "values": values}).encode()

    return [
        Message(topic, b'{"time": "2026-11-25T10:00:00Z", "values": {', "malformed_payload"),
        Message(
            DEVICE_TOPIC.format(device_id="ghost-device-404"),
            payload({channel: 1.0}),
            "unknown_device",
        ),
        Message(topic, payload({channel: float("nan")}), "invalid_value"),
        Message(topic, payload({channel: {"value": 3.0, "unit": "°F"}}), "wrong_unit"),
        Message(topic, payload({channel: 1.0}, (at + timedelta(days=2)).isoformat()), "future"),
        Message(topic, payload({"no_such_channel": 1.0}), "unknown_channel"),
    ]
