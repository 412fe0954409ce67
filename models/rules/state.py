"""The per-usage state the detection rules read and update."""

from __future__ import annotations

from enum import StrEnum

from pydantic import AwareDatetime, BaseModel, ConfigDict

from models.alarms.state import UsageAlarms
from models.transmission import TransmissionState


class ThresholdState(StrEnum):
    OK = "ok"
    LOW = "low"
    HIGH = "high"


class UsageState(BaseModel):
    """Small and JSON-serialisable: the worker holds it as JSON text in memory and in the
    `usage_states` table (stream.state_cache)."""

    model_config = ConfigDict(frozen=True)

    last_ts: AwareDatetime | None = None
    last_value: float | None = None
    index_baseline: float | None = None
    """The last trusted index: a glitch below it does not replace it."""
    readings_below_baseline: int = 0
    threshold: ThresholdState = ThresholdState.OK
    transmission: TransmissionState = TransmissionState()
    anomaly: str | None = None
    """The anomaly detector's state (models.anomaly) as JSON text, None before the first
    reading: held for every usage in a worker's memory, text takes a third of the room of
    the nested dicts it encodes."""
    alarms: UsageAlarms = UsageAlarms()
    """The alarm rules' conditions, timers and open alarms (models.alarms): saved with the
    batch like the rest, so a duration timer survives a restart."""
