"""Min/max thresholds of a usage: an event when the value leaves the range, one when it returns.

Only crossings are events, so a value that stays out of range does not flood the teams.
"""

from __future__ import annotations

from models.detection import DetectionEvent, DetectionKind, Severity
from models.reading import Reading
from models.registry import Usage
from models.rules.state import ThresholdState, UsageState


def check_thresholds(
    state: UsageState, usage: Usage, reading: Reading
) -> tuple[UsageState, list[DetectionEvent]]:
    position = _position(usage, reading.value)
    if position is state.threshold:
        return state, []
    kind, severity, limit = {
        ThresholdState.HIGH: (DetectionKind.THRESHOLD_HIGH, Severity.MAJOR, usage.max),
        ThresholdState.LOW: (DetectionKind.THRESHOLD_LOW, Severity.MAJOR, usage.min),
        ThresholdState.OK: (DetectionKind.THRESHOLD_CLEARED, Severity.INFO, None),
    }[position]
    event = DetectionEvent.of(
        kind,
        reading.tenant_id,
        reading.usage_id,
        reading.ts,
        severity,
        observed=reading.value,
        limit=limit,
        min=usage.min,
        max=usage.max,
        unit=reading.unit,
    )
    return state.model_copy(update={"threshold": position}), [event]


def _position(usage: Usage, value: float) -> ThresholdState:
    if usage.max is not None and value > usage.max:
        return ThresholdState.HIGH
    if usage.min is not None and value < usage.min:
        return ThresholdState.LOW
    return ThresholdState.OK
