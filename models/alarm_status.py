"""The words of a stored alarm that a person filters on: its severity and its status
(ThingsBoard's four: active or cleared, each acknowledged or not)."""

from __future__ import annotations

from enum import StrEnum

__all__ = ["AlarmSeverity", "AlarmStatus", "CountLevel"]


class AlarmSeverity(StrEnum):
    CRITICAL = "critical"
    MAJOR = "major"
    MINOR = "minor"
    WARNING = "warning"


class AlarmStatus(StrEnum):
    ACTIVE_UNACK = "active_unack"
    ACTIVE_ACK = "active_ack"
    CLEARED_UNACK = "cleared_unack"
    CLEARED_ACK = "cleared_ack"


class CountLevel(StrEnum):
    """What a row of the open alarms' counts is about (view `alarm_counts`)."""

    TENANT = "tenant"
    ENTITY = "entity"
    EQUIPMENT = "equipment"
