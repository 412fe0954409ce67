"""The words of a stored alarm that a person filters on: its severity and its status
(ThingsBoard's four: active or cleared, each acknowledged or not)."""

from __future__ import annotations

from enum import StrEnum

__all__ = ["AlarmSeverity", "AlarmStatus", "CountLevel"]


class AlarmSeverity(StrEnum):
    """From the most to the least severe."""

    CRITICAL = "critical"
    MAJOR = "major"
    MINOR = "minor"
    WARNING = "warning"

    @property
    def rank(self) -> int:
        """Higher for a more severe one (the alarm rules keep the highest met)."""
        return _RANKS[self]


_RANKS = {severity: rank for rank, severity in enumerate(reversed(AlarmSeverity))}


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
