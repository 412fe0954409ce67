"""Detection rules over a usage's readings: pure and deterministic, testable without Kafka.

`check_reading` applies the rules its usage type calls for, in time order, and follows the
usage's transmission. A reading at or before the last one seen (a duplicate, a replay,
late data) changes no value state: only the transmission (late data may fill a gap) and
the rules that need no history look at it. `check_silence` is the clock's side: a usage
that says nothing still turns orange, then red, and its gap opens.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import orjson

from models.anomaly import AnomalyConfig, check_anomaly
from models.detection import DetectionEvent, DetectionKind
from models.reading import Reading, UsageType
from models.registry import UsageRef
from models.rules.consumption import check_negative_consumption
from models.rules.index import IndexPolicy, check_index
from models.rules.state import ThresholdState, UsageState
from models.rules.thresholds import check_thresholds
from models.transmission import (
    TransmissionPolicy,
    next_silence_step,
    observe_silence,
    observe_transmission,
)


def check_reading(
    state: UsageState,
    ref: UsageRef,
    reading: Reading,
    index_policy: IndexPolicy = IndexPolicy(),
    transmission_policy: TransmissionPolicy = TransmissionPolicy(),
    anomaly_config: AnomalyConfig = AnomalyConfig(),
    heard: datetime | None = None,
) -> tuple[UsageState, list[DetectionEvent]]:
    """Check one reading; `heard` is when its uplink was published (see
    models.transmission.monitor: silence is counted from it)."""
    usage = ref.usage
    events: list[DetectionEvent] = []
    if usage.type is UsageType.CONSUMPTION:
        events += check_negative_consumption(reading)
    transmission, found = observe_transmission(
        state.transmission, ref, state.last_ts, reading.ts, transmission_policy, heard
    )
    events += found
    if state.last_ts is not None and reading.ts <= state.last_ts:
        if transmission is state.transmission:
            return state, events
        return state.model_copy(update={"transmission": transmission}), events
    previous = state
    if usage.type is UsageType.INDEX:
        state, found = check_index(state, usage, reading, index_policy)
    else:
        state, found = check_thresholds(state, usage, reading)
    learnt, anomaly = _check_anomaly(previous, ref, reading, found, anomaly_config)
    state = state.model_copy(
        update={
            "transmission": transmission,
            "last_ts": reading.ts,
            "last_value": reading.value,
            "anomaly": learnt,
        }
    )
    return state, events + found + anomaly


_INDEX_JUMPS = {DetectionKind.DECREASING_INDEX, DetectionKind.METER_RESET}


def _check_anomaly(
    previous: UsageState,
    ref: UsageRef,
    reading: Reading,
    found: list[DetectionEvent],
    config: AnomalyConfig,
) -> tuple[str | None, list[DetectionEvent]]:
    """The detector learns levels and consumptions: an index meter's consumption since its
    previous index (a decrease or a reset, already reported, teaches it nothing)."""
    if ref.usage.type is UsageType.INDEX:
        if previous.last_value is None or any(e.kind in _INDEX_JUMPS for e in found):
            return previous.anomaly, []
        rollover = next((e for e in found if e.kind is DetectionKind.INDEX_ROLLOVER), None)
        consumption = (
            rollover.details["consumption"] if rollover else reading.value - previous.last_value
        )
        reading = reading.model_copy(update={"value": consumption})
    stored = None if previous.anomaly is None else orjson.loads(previous.anomaly)
    learnt, event = check_anomaly(stored, reading, config, ZoneInfo(ref.timezone))
    return orjson.dumps(learnt).decode(), [event] if event else []


def check_silence(
    state: UsageState, ref: UsageRef, now: datetime, policy: TransmissionPolicy
) -> tuple[UsageState, list[DetectionEvent]]:
    transmission, found = observe_silence(state.transmission, ref, state.last_ts, now, policy)
    if transmission is state.transmission:
        return state, found
    return state.model_copy(update={"transmission": transmission}), found


def silence_due(state: UsageState, ref: UsageRef, policy: TransmissionPolicy) -> datetime | None:
    """Until when `check_silence` would find nothing (None: not before the next reading)."""
    return next_silence_step(state.transmission, ref, state.last_ts, policy)


__all__ = [
    "IndexPolicy",
    "ThresholdState",
    "UsageState",
    "check_reading",
    "check_silence",
    "silence_due",
]
