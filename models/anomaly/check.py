"""The anomaly check of one reading as a pure step on the usage's stored detector state,
in the shape of the other detection rules: (state, reading) -> (new state, event or None)."""

from __future__ import annotations

from datetime import UTC, tzinfo
from typing import Any

from models.anomaly.config import AnomalyConfig
from models.anomaly.detector import STATE_VERSION, AnomalyDetector
from models.anomaly.event import anomaly_event
from models.detection import DetectionEvent
from models.reading import Reading, UsageType


def check_anomaly(
    state: dict[str, Any] | None, reading: Reading, config: AnomalyConfig, tz: tzinfo = UTC
) -> tuple[dict[str, Any], DetectionEvent | None]:
    """`state` None, or saved by an older version of the detector, starts a new detector.
    An instant usage (a level) is scored on its rate of change too. Restoring and saving
    the state costs about twice the scoring: a worker that keeps its detectors in memory
    can call the detector directly."""
    rate_of_change = reading.usage_type is UsageType.INSTANT
    detector = (
        AnomalyDetector(config, tz, rate_of_change)
        if state is None or state.get("v") != STATE_VERSION
        else AnomalyDetector.from_state(state, config, tz, rate_of_change)
    )
    result = detector.score_and_learn(reading.ts, reading.value)
    event = anomaly_event(reading.tenant_id, reading.usage_id, reading.ts, result, reading.unit)
    return detector.to_state(), event
