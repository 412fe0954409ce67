"""Detection rules over a usage's readings: pure and deterministic, testable without Kafka.

`check_reading` applies the rules its usage type calls for, in time order, and follows the
usage's transmission. A reading at or before the last one seen (a duplicate, a replay,
late data) changes no value state: only the transmission (late data may fill a gap) and
the rules that need no history look at it. `check_silence` is the clock's side: a usage
that says nothing still turns orange, then red, and its gap opens.
"""

from __future__ import annotations

from datetime import datetime

from models.detection import DetectionEvent
from models.reading import Reading, UsageType
from models.registry import UsageRef
from models.rules.consumption import check_negative_consumption
from models.rules.index import IndexPolicy, check_index
from models.rules.state import ThresholdState, UsageState
from models.rules.thresholds import check_thresholds
from models.transmission import TransmissionPolicy, observe_silence, observe_transmission


def check_reading(
    state: UsageState,
    ref: UsageRef,
    reading: Reading,
    index_policy: IndexPolicy = IndexPolicy(),
    transmission_policy: TransmissionPolicy = TransmissionPolicy(),
) -> tuple[UsageState, list[DetectionEvent]]:
    usage = ref.usage
    events: list[DetectionEvent] = []
    if usage.type is UsageType.CONSUMPTION:
        events += check_negative_consumption(reading)
    transmission, found = observe_transmission(
        state.transmission, ref, state.last_ts, reading.ts, transmission_policy
    )
    if found or transmission is not state.transmission:
        state = state.model_copy(update={"transmission": transmission})
        events += found
    if state.last_ts is not None and reading.ts <= state.last_ts:
        return state, events
    if usage.type is UsageType.INDEX:
        state, found = check_index(state, usage, reading, index_policy)
    else:
        state, found = check_thresholds(state, usage, reading)
    state = state.model_copy(update={"last_ts": reading.ts, "last_value": reading.value})
    return state, events + found


def check_silence(
    state: UsageState, ref: UsageRef, now: datetime, policy: TransmissionPolicy
) -> tuple[UsageState, list[DetectionEvent]]:
    transmission, found = observe_silence(state.transmission, ref, state.last_ts, now, policy)
    if transmission is state.transmission:
        return state, found
    return state.model_copy(update={"transmission": transmission}), found


__all__ = [
    "IndexPolicy",
    "ThresholdState",
    "UsageState",
    "check_reading",
    "check_silence",
]
