"""Detection rules over a usage's readings: pure and deterministic, testable without Kafka.

`check_reading` applies the rules its usage type calls for, in time order. A reading
at or before the last one seen (a duplicate, a replay, late data) changes no state and
is only checked by the rules that need no history.
"""

from __future__ import annotations

from models.detection import DetectionEvent
from models.reading import Reading, UsageType
from models.registry import Usage
from models.rules.consumption import check_negative_consumption
from models.rules.index import IndexPolicy, check_index
from models.rules.state import ThresholdState, UsageState
from models.rules.thresholds import check_thresholds


def check_reading(
    state: UsageState, usage: Usage, reading: Reading, index_policy: IndexPolicy = IndexPolicy()
) -> tuple[UsageState, list[DetectionEvent]]:
    events: list[DetectionEvent] = []
    if usage.type is UsageType.CONSUMPTION:
        events += check_negative_consumption(reading)
    if state.last_ts is not None and reading.ts <= state.last_ts:
        return state, events
    if usage.type is UsageType.INDEX:
        state, found = check_index(state, usage, reading, index_policy)
    else:
        state, found = check_thresholds(state, usage, reading)
    state = state.model_copy(update={"last_ts": reading.ts, "last_value": reading.value})
    return state, events + found


__all__ = ["IndexPolicy", "ThresholdState", "UsageState", "check_reading"]
