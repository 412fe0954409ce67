"""A tenant's `notifications:` section of the registry: who hears of its alarms, how and when.

Alertmanager does the work (routing, grouping, reminders, mute intervals, inhibition,
delivery); this is what a tenant says of it, checked when the registry is loaded, and
turned into Alertmanager's configuration by `models.alerting.config`.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Self
from zoneinfo import ZoneInfo

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    NonNegativeFloat,
    PositiveFloat,
    field_validator,
    model_validator,
)

from models.alarm_status import AlarmSeverity

__all__ = [
    "EmailReceiver",
    "Escalation",
    "Language",
    "MuteInterval",
    "Notifications",
    "Receiver",
    "Route",
    "TeamsReceiver",
    "TimeRange",
    "WebhookReceiver",
    "Weekday",
]

_CLOCK = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$|^24:00$")
_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Language(StrEnum):
    FR = "fr"
    EN = "en"


class Weekday(StrEnum):
    MONDAY = "monday"
    TUESDAY = "tuesday"
    WEDNESDAY = "wednesday"
    THURSDAY = "thursday"
    FRIDAY = "friday"
    SATURDAY = "saturday"
    SUNDAY = "sunday"


class EmailReceiver(_Strict):
    """E-mail over SMTP."""

    to: tuple[str, ...] = Field(min_length=1)
    sender: str = Field(min_length=3, description="the From address")
    smarthost: str = Field(pattern=r"^[^:\s]+:\d+$", description="host:port of the SMTP relay")
    require_tls: bool = True


class TeamsReceiver(_Strict):
    """Microsoft Teams through a Workflows webhook (an Adaptive Card)."""

    url: str = Field(pattern=r"^https?://")


class WebhookReceiver(_Strict):
    """Alertmanager's generic webhook: its JSON, POSTed to `url`."""

    url: str = Field(pattern=r"^https?://")


class Receiver(_Strict):
    """A group of people and how they are told: any of e-mail, Teams and a webhook."""

    name: str = Field(pattern=_NAME.pattern)
    language: Language = Language.FR
    email: EmailReceiver | None = None
    teams: TeamsReceiver | None = None
    webhook: WebhookReceiver | None = None
    send_resolved: bool = Field(default=True, description="also say when the alarm clears")

    @model_validator(mode="after")
    def _reaches_someone(self) -> Self:
        if self.email is None and self.teams is None and self.webhook is None:
            raise ValueError(f"receiver {self.name!r} has no email, teams nor webhook")
        return self


class TimeRange(_Strict):
    """From `start` to `end`, local "HH:MM"; an `end` before `start` runs past midnight."""

    start: str
    end: str

    @field_validator("start", "end")
    @classmethod
    def _clock(cls, value: str) -> str:
        if not _CLOCK.match(value):
            raise ValueError(f"{value!r} is not a time of day HH:MM")
        return value

    @model_validator(mode="after")
    def _not_empty(self) -> Self:
        if self.start == self.end:
            raise ValueError(f"empty time range {self.start}-{self.end}")
        return self


class MuteInterval(_Strict):
    """When a route's notifications are held: nights, weekends, maintenance windows.

    Every field given must match (Alertmanager's time interval); an absent one matches all.
    """

    name: str = Field(pattern=_NAME.pattern)
    times: tuple[TimeRange, ...] = ()
    weekdays: tuple[Weekday, ...] = ()
    days_of_month: tuple[str, ...] = Field(default=(), description='"1", "1:7", "-1"')
    months: tuple[str, ...] = Field(default=(), description='"january", "1:3"')
    years: tuple[str, ...] = Field(default=(), description='"2026", "2026:2027"')
    timezone: ZoneInfo = ZoneInfo("Europe/Paris")


class Route(_Strict):
    """Which alarms go to a receiver; an empty filter matches every alarm of the tenant."""

    receiver: str
    entities: tuple[str, ...] = ()
    severities: tuple[AlarmSeverity, ...] = ()
    alarm_types: tuple[str, ...] = ()
    mute: tuple[str, ...] = Field(default=(), description="names of mute intervals")
    continue_matching: bool = Field(
        default=False, description="also try the next routes when this one matched"
    )


class Escalation(_Strict):
    """Unacknowledged `after_s` seconds after it was first notified, an alarm also goes to
    `receiver` (one level of ThingsBoard's escalation chain)."""

    after_s: PositiveFloat
    receiver: str
    mute: tuple[str, ...] = ()


class Notifications(_Strict):
    """A tenant's notification routing; the first route that matches an alarm wins."""

    receivers: tuple[Receiver, ...] = Field(min_length=1)
    default_receiver: str = Field(description="for alarms no route matches")
    routes: tuple[Route, ...] = ()
    escalation: tuple[Escalation, ...] = Field(
        default=(), description="levels, in order of their delays"
    )
    mute_intervals: tuple[MuteInterval, ...] = ()
    group_by: tuple[str, ...] = ("entity", "alarm_type")
    group_wait_s: NonNegativeFloat = 30.0
    group_interval_s: PositiveFloat = 300.0
    repeat_interval_s: PositiveFloat = Field(
        default=4 * 3600.0, description="reminders of an unacknowledged alarm"
    )
    inhibiting_alarm_types: tuple[str, ...] = Field(
        default=("transmission",),
        description="alarm types that, at an inhibiting severity, hold the device's other alarms",
    )
    inhibiting_severities: tuple[AlarmSeverity, ...] = Field(
        default=(AlarmSeverity.MAJOR, AlarmSeverity.CRITICAL),
        description="a transmission red (cut) is major at once",
    )

    @model_validator(mode="after")
    def _references_resolve(self) -> Self:
        names = [receiver.name for receiver in self.receivers]
        if len(set(names)) != len(names):
            raise ValueError(f"duplicate receiver names in {names}")
        intervals = {interval.name for interval in self.mute_intervals}
        targets: list[Route | Escalation] = [*self.routes, *self.escalation]
        for name in [self.default_receiver] + [target.receiver for target in targets]:
            if name not in names:
                raise ValueError(f"unknown receiver {name!r}")
        for name in [name for target in targets for name in target.mute]:
            if name not in intervals:
                raise ValueError(f"unknown mute interval {name!r}")
        delays = [level.after_s for level in self.escalation]
        if delays != sorted(delays):
            raise ValueError("escalation levels must be in order of their delays")
        return self

    def escalation_level(self, unacknowledged_s: float) -> int:
        """How many escalation levels an alarm unacknowledged this long has reached."""
        return sum(1 for level in self.escalation if unacknowledged_s >= level.after_s)
