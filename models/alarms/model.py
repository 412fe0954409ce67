"""An alarm, ThingsBoard's model: active or cleared, acknowledged or not, with a severity.

The stream owns the data's side of an alarm (raised, severity, occurrences, flapping,
cleared by the data); a person owns the acknowledgement and a clear by hand, which the
stream never undoes (storage.alarm_writer).
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from enum import StrEnum
from typing import Any

import orjson
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from models.alarm_status import AlarmSeverity


class Transition(StrEnum):
    """What changed an alarm: one row of its history each."""

    RAISED = "raised"
    SEVERITY_CHANGED = "severity_changed"
    REPEATED = "repeated"
    """Detected again while open: one more occurrence."""
    FLAPPING_STARTED = "flapping_started"
    FLAPPING_STOPPED = "flapping_stopped"
    CLEARED = "cleared"


def alarm_id(tenant_id: str, usage_id: str, alarm_type: str, start: datetime) -> str:
    """Deterministic: a replay of the same data raises the same alarm, stored once."""
    key = f"alarm|{tenant_id}|{usage_id}|{alarm_type}|{start.isoformat()}"
    return hashlib.sha256(key.encode()).hexdigest()[:32]


class Subject(BaseModel):
    """Where an alarm belongs: the usage and everything above it."""

    model_config = ConfigDict(frozen=True)

    tenant_id: str
    entity_id: str
    equipment_id: str
    usage_id: str
    device_id: str | None = None


class Alarm(BaseModel):
    """The stream's columns of a row of `alarms` (storage/migrations/0008_alarms.sql)."""

    model_config = ConfigDict(frozen=True)

    id: str
    tenant_id: str
    entity_id: str
    equipment_id: str
    usage_id: str
    device_id: str | None
    type: str
    severity: AlarmSeverity
    start_ts: AwareDatetime
    last_seen_ts: AwareDatetime
    end_ts: AwareDatetime | None = None
    cleared: bool = False
    flapping: bool = False
    occurrences: int = Field(default=1, gt=0)
    details: dict[str, Any] = Field(default_factory=dict)

    @classmethod
    def raise_(
        cls,
        subject: Subject,
        alarm_type: str,
        severity: AlarmSeverity,
        at: datetime,
        details: dict[str, Any],
    ) -> Alarm:
        return cls(
            id=alarm_id(subject.tenant_id, subject.usage_id, alarm_type, at),
            **subject.model_dump(),
            type=alarm_type,
            severity=severity,
            start_ts=at,
            last_seen_ts=at,
            details=details,
        )


class AlarmChange(BaseModel):
    """One transition of an alarm, with the alarm as it is after it."""

    model_config = ConfigDict(frozen=True)

    alarm: Alarm
    transition: Transition
    ts: AwareDatetime

    def to_json(self) -> bytes:
        """The message published on `<prefix>.alarms`: the row's columns plus `transition`
        (and `transition_ts`, when it happened in the data)."""
        row = self.alarm.model_dump(mode="json")
        row |= {"transition": self.transition.value, "transition_ts": self.ts.isoformat()}
        return orjson.dumps(row)
