"""An anomaly as a detection event, with what explains it: observed vs expected."""

from __future__ import annotations

from datetime import datetime

from models.anomaly.detector import AnomalyScore
from models.detection import DetectionEvent, DetectionKind, Severity


def anomaly_event(
    tenant_id: str, usage_id: str, ts: datetime, result: AnomalyScore, unit: str | None = None
) -> DetectionEvent | None:
    """The event of a reading scored as an anomaly, None for a normal one."""
    if not result.is_anomaly:
        return None
    return DetectionEvent.of(
        DetectionKind.ANOMALY,
        tenant_id,
        usage_id,
        ts,
        Severity.WARNING,
        score=round(result.score, 4),
        threshold=result.threshold,
        cause=None if result.cause is None else result.cause.value,
        observed=result.observed,
        expected_low=result.expected_low,
        expected_high=result.expected_high,
        unit=unit,
    )
