"""Consumption usages: consumption per interval must not be negative."""

from __future__ import annotations

from models.detection import DetectionEvent, DetectionKind, Severity
from models.reading import Reading


def check_negative_consumption(reading: Reading) -> list[DetectionEvent]:
    if reading.value >= 0:
        return []
    return [
        DetectionEvent.of(
            DetectionKind.NEGATIVE_CONSUMPTION,
            reading.tenant_id,
            reading.usage_id,
            reading.ts,
            Severity.MAJOR,
            observed=reading.value,
            unit=reading.unit,
        )
    ]
