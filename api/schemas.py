"""What the HTTP API returns, as its OpenAPI spec documents it. Times are UTC; each alarm
also names its building's zone, for showing them to a person."""

from __future__ import annotations

from typing import Any

from pydantic import AwareDatetime, BaseModel

from models.alarm_status import AlarmSeverity, AlarmStatus, CountLevel

__all__ = [
    "Alarm",
    "AlarmCount",
    "AlarmPage",
    "AlarmWithHistory",
    "Health",
    "Problem",
    "Transition",
]


class Problem(BaseModel):
    """Why a request was refused."""

    detail: str


class Alarm(BaseModel):
    id: str
    tenant_id: str
    entity_id: str
    equipment_id: str
    usage_id: str
    device_id: str | None
    type: str
    severity: AlarmSeverity
    status: AlarmStatus
    start_ts: AwareDatetime
    last_seen_ts: AwareDatetime
    end_ts: AwareDatetime | None
    cleared: bool
    cleared_by: str | None
    """None when the data cleared it, else who cleared it by hand."""
    acknowledged: bool
    ack_ts: AwareDatetime | None
    ack_by: str | None
    flapping: bool
    occurrences: int
    details: dict[str, Any]
    updated_at: AwareDatetime
    timezone: str
    """The zone of the alarm's building (IANA name)."""


class Transition(BaseModel):
    """A change of an alarm: raised, severity changed, acknowledged, cleared, ..."""

    ts: AwareDatetime
    transition: str
    severity: AlarmSeverity
    actor: str
    """'stream' for the data, else who made it."""
    details: dict[str, Any]


class AlarmWithHistory(Alarm):
    history: list[Transition]
    """Oldest first."""


class AlarmPage(BaseModel):
    alarms: list[Alarm]
    next_offset: int | None
    """The offset of the next page; None on the last one."""


class AlarmCount(BaseModel):
    """Open alarms of a tenant, an entity or an equipment (`level`)."""

    level: CountLevel
    tenant_id: str
    entity_id: str | None
    equipment_id: str | None
    open: int
    unacknowledged: int
    critical: int
    major: int
    minor: int
    warning: int
    flapping: int


class Health(BaseModel):
    status: str
