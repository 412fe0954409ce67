"""The demo building's past: two years of hourly readings, for the reports.

Deterministic for a seed. Every usage reads once an hour, in its own unit's scale of the
live simulation (an index meter's step averages 1, a consumption 10), so that the anomaly
detector sees the same usages before and after. Seasons: the outdoor temperature follows
the year and the day; gas and heating follow the cold (unified degree days, base 18 C),
electricity and water the occupancy. Defects: the office's electricity meter is replaced
(reset near zero) 300 days before the end, and the hotel's water meter is silent for three
days 200 days before the end (a gap). The meters with a rollover (`index_max`) end where
the live simulation starts them, near their top, so the live part still shows a rollover.
"""

from __future__ import annotations

import itertools
import json
import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from models.energy import is_outdoor_temperature
from models.reading import UsageType
from models.registry import Device, Registry, UsageRef
from smati.simulator import DEVICE_TOPIC, Message

__all__ = ["HISTORY_STEP", "History", "history_messages"]

HISTORY_STEP = timedelta(hours=1)
RESET_USAGE, RESET_DAYS_BEFORE_END = "office-lyon.electricity", 300
SILENT_DEVICE, SILENT_DAYS_BEFORE_END, SILENT_DAYS = "paris-water-01", 200, 3
_TOP_MARGIN = 30.0
"""An index with a rollover ends this far below its top, as the live simulation starts it."""


@dataclass(frozen=True)
class History:
    messages: list[tuple[datetime, Message]]
    indexes: dict[str, float]
    """Each index meter's last value: the live simulation continues from there."""


def _season(at: datetime) -> float:
    """1 in mid-January, -1 in mid-July."""
    return math.cos(2 * math.pi * (at.timetuple().tm_yday - 15) / 365.25)


def _outdoor(at: datetime, rng: random.Random) -> float:
    daily = math.sin(2 * math.pi * (at.hour - 9) / 24)
    return 12.0 - 8.0 * _season(at) + 4.0 * daily + rng.gauss(0, 1.5)


def _occupancy(at: datetime) -> float:
    """0.3 to 1: people in the building at this hour (UTC, close enough for a demo)."""
    return 0.3 + 0.7 * max(0.0, math.sin(math.pi * (at.hour - 6) / 16))


def _cold(outdoor: float) -> float:
    """How much heating the weather calls for: degree days, base 18 C, a twelfth a degree."""
    return max(0.05, (18.0 - outdoor) / 12.0)


Signal = Callable[[datetime, float, random.Random], float]
"""(time, outdoor temperature, rng) -> the step of an index, or a level."""


def _signal(ref: UsageRef) -> Signal:
    tags = set(ref.usage.tags)
    if is_outdoor_temperature(ref.usage.type, tags):
        return lambda at, t, rng: t
    if {"naturalGas"} <= tags:
        return lambda at, t, rng: _cold(t) * rng.uniform(0.8, 1.2)
    if "heating" in tags:
        return lambda at, t, rng: 10.0 * _cold(t) * rng.uniform(0.8, 1.2)
    if "co2" in tags:
        return lambda at, t, rng: 420 + 450 * _occupancy(at) + rng.gauss(0, 20)
    if "temp" in tags:
        return lambda at, t, rng: 21.0 + 0.5 * math.sin(t / 10) + rng.gauss(0, 0.3)
    return lambda at, t, rng: (1.2 + 0.1 * _season(at)) * _occupancy(at) * rng.uniform(0.8, 1.2)


_OLD_METER_INDEX = 40_000.0
"""What the office's electricity meter read when it was replaced."""


def _series(
    ref: UsageRef, signal: Signal, times: list[datetime], outdoor: list[float], rng: random.Random
) -> list[float]:
    """The usage's value at each time: a level, or an index summing its steps."""
    values = [signal(at, t, rng) for at, t in zip(times, outdoor, strict=True)]
    if ref.usage.type is not UsageType.INDEX:
        return [round(v, 3) for v in values]
    indexes = list(itertools.accumulate(values))
    if ref.usage.id == RESET_USAGE:
        reset = len(times) - RESET_DAYS_BEFORE_END * 24
        before = [_OLD_METER_INDEX + v for v in indexes[:reset]]
        indexes = before + list(itertools.accumulate(values[reset:]))
    if ref.usage.index_max is not None:
        shift = ref.usage.index_max - _TOP_MARGIN - indexes[-1]
        indexes = [v + shift for v in indexes]
    return [round(v, 3) for v in indexes]


def history_messages(registry: Registry, start: datetime, end: datetime, seed: int = 11) -> History:
    """Every device's hourly messages from `start` to `end`, in time order."""
    rng = random.Random(seed)
    times = [start + n * HISTORY_STEP for n in range(int((end - start) / HISTORY_STEP))]
    outdoor = [_outdoor(at, rng) for at in times]
    series = {
        ref.usage.id: _series(ref, _signal(ref), times, outdoor, rng)
        for ref in registry.usage_refs()
    }
    silent_from = end - timedelta(days=SILENT_DAYS_BEFORE_END)
    silent = (silent_from, silent_from + timedelta(days=SILENT_DAYS))
    messages = [
        (at, _message(device, {ch: series[u][n] for ch, u in device.channels.items()}, at))
        for n, at in enumerate(times)
        for device in registry.devices
        if not (device.id == SILENT_DEVICE and silent[0] <= at < silent[1])
    ]
    indexes = {
        ref.usage.id: series[ref.usage.id][-1]
        for ref in registry.usage_refs()
        if ref.usage.type is UsageType.INDEX
    }
    return History(messages, indexes)


def _message(device: Device, values: dict[str, float], at: datetime) -> Message:
    payload = {"time": at.isoformat(), "values": values}
    return Message(DEVICE_TOPIC.format(device_id=device.id), json.dumps(payload).encode())
