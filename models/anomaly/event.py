"""An anomaly as a detection event, with what explains it: the score, the cause, the
range expected of what the cause measured, and a sentence saying it."""

from __future__ import annotations

from datetime import datetime

from models.anomaly.detector import AnomalyScore
from models.anomaly.explain import explain
from models.detection import DetectionEvent, DetectionKind, Severity


def anomaly_event(
    tenant_id: str, usage_id: str, ts: datetime, result: AnomalyScore, unit: str | None = None
) -> DetectionEvent | None:
    """The event of a reading scored as an anomaly, None for a normal one."""
    finding = result.finding
    if finding is None or not result.is_anomaly:
        return None
    return DetectionEvent.of(
        DetectionKind.ANOMALY,
        tenant_id,
        usage_id,
        ts,
        Severity.WARNING,
        score=round(result.score, 4),
        threshold=result.threshold,
        cause=finding.cause.value,
        observed=result.observed,
        measured=_figure(finding.measured),
        expected_low=_figure(finding.expected_low),
        expected_high=_figure(finding.expected_high),
        usual=None if finding.usual is None else _figure(finding.usual),
        explanation=explain(result, unit),
        unit=unit,
    )


def _figure(value: float) -> float:
    """A learnt figure for a person, to 6 significant digits: a level learnt by a sum of
    floats carries noise (0.09999999999990905) that no sensor measured. The observed value
    is the reading's, kept as it came."""
    return float(f"{value:.6g}")
