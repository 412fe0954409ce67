"""What the notifier does for one alarm: a pure function of the alarm as stored, what was
already sent for it, the tenant's escalation chain and the time.

Alertmanager identifies an alert by its labels and deduplicates what it notifies, so
posting the same alert again is safe: that is how an alarm is kept alive (its `endsAt`
renewed before it passes). What must not happen twice is kept in `Delivery`, stored by
the notifier: the labels last posted, the escalation level reached, whether the resolved
alert was sent, the silence that holds an acknowledged alarm's reminders.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from models.alarms.model import Alarm
from models.alerting.config import ESCALATION_LABEL
from models.alerting.messages import AlarmText, summaries
from models.alerting.routing import Notifications

__all__ = ["Alert", "Delivery", "Plan", "Stored", "Timing", "alarm_labels", "plan"]


@dataclass(frozen=True)
class Stored:
    """An alarm as the notifier reads it: the stream's columns, and whether a person
    acknowledged it (which the stream never writes)."""

    alarm: Alarm
    acknowledged: bool


@dataclass(frozen=True)
class Delivery:
    """What the notifier has sent for an alarm (a row of `alarm_notifications`)."""

    alarm_id: str
    labels: dict[str, str]
    first_sent_at: datetime
    last_sent_at: datetime
    level: int = 0
    resolved: bool = False
    silence_id: str | None = None


@dataclass(frozen=True)
class Alert:
    """One alert of Alertmanager's API v2 (`POST /api/v2/alerts`)."""

    labels: dict[str, str]
    annotations: dict[str, str]
    starts_at: datetime
    ends_at: datetime

    def to_json(self) -> dict[str, Any]:
        return {
            "labels": self.labels,
            "annotations": self.annotations,
            "startsAt": self.starts_at.isoformat(),
            "endsAt": self.ends_at.isoformat(),
        }


@dataclass(frozen=True)
class Timing:
    """`resend_s`: how often a firing alert is posted again; it is posted with `endsAt`
    `ttl_s` ahead, so that Alertmanager resolves it by itself only if the notifier is gone
    for that long."""

    resend_s: float = 60.0
    ttl_s: float = 300.0


@dataclass(frozen=True)
class Plan:
    """What to do: post `alerts`, create a silence on the alarm (`silence`), expire the
    silence `expire_silence`, then store `delivery` (None: nothing to store)."""

    alerts: list[Alert] = field(default_factory=list)
    silence: bool = False
    expire_silence: str | None = None
    delivery: Delivery | None = None


NOTHING = Plan()
RESOLVE_MARGIN_S = 2.0
"""Past its group's `group_wait`, how long an alert stays firing at least before it is
resolved: Alertmanager's first notification of the group has gone by then."""


def alarm_labels(alarm: Alarm) -> dict[str, str]:
    """The labels Alertmanager routes, groups, inhibits and silences on."""
    labels = {
        "tenant": alarm.tenant_id,
        "entity": alarm.entity_id,
        "equipment": alarm.equipment_id,
        "usage": alarm.usage_id,
        "alarm_type": alarm.type,
        "severity": alarm.severity.value,
        "alarm_id": alarm.id,
    }
    if alarm.device_id:
        labels["device"] = alarm.device_id
    return labels


def plan(
    stored: Stored,
    sent: Delivery | None,
    notifications: Notifications | None,
    now: datetime,
    timing: Timing,
    zone: ZoneInfo,
) -> Plan:
    """What to send for an alarm, given what was sent (`sent`) and the tenant's routing."""
    if not stored.alarm.cleared:
        return _plan_active(stored, sent, notifications, now, timing, zone)
    if sent is None:  # raised and cleared before it was seen open (one batch of the stream):
        # told firing, resolved by a later pass; unless a person acknowledged it meanwhile
        return (
            NOTHING if stored.acknowledged else _plan_active(stored, None, None, now, timing, zone)
        )
    group_wait_s = notifications.group_wait_s if notifications is not None else 0.0
    return _plan_cleared(stored.alarm, sent, now, group_wait_s, zone)


def _plan_cleared(
    alarm: Alarm, sent: Delivery, now: datetime, group_wait_s: float, zone: ZoneInfo
) -> Plan:
    """Resolved once, with the alarm's end, once Alertmanager has had the time to notify
    it firing: it drops, untold, an alert resolved before its group's first notification."""
    if sent.resolved:
        if sent.silence_id is not None:
            gone = dataclasses.replace(sent, silence_id=None)
            return Plan(expire_silence=sent.silence_id, delivery=gone)
        return NOTHING
    if now - sent.first_sent_at < timedelta(seconds=group_wait_s + RESOLVE_MARGIN_S):
        return NOTHING  # a later pass resolves it
    assert alarm.end_ts is not None
    ends = min(alarm.end_ts, now)
    alerts = _copies(alarm, sent.labels, sent.level, ends, zone)
    done = dataclasses.replace(sent, resolved=True, last_sent_at=now, silence_id=None)
    return Plan(alerts=alerts, expire_silence=sent.silence_id, delivery=done)


def _plan_active(
    stored: Stored,
    sent: Delivery | None,
    notifications: Notifications | None,
    now: datetime,
    timing: Timing,
    zone: ZoneInfo,
) -> Plan:
    alarm, acknowledged = stored.alarm, stored.acknowledged
    labels = alarm_labels(alarm)
    if sent is not None and alarm.flapping:
        labels = sent.labels  # a flapping alarm's changes are held: it was told once
    first_sent = sent.first_sent_at if sent is not None else now
    level = sent.level if sent is not None else 0
    if notifications is not None and not acknowledged:
        level = max(level, notifications.escalation_level((now - first_sent).total_seconds()))
    changed = sent is None or labels != sent.labels or level != sent.level
    due = sent is None or now - sent.last_sent_at >= timedelta(seconds=timing.resend_s)
    silence = acknowledged and (sent is None or sent.silence_id is None)
    if not (changed or due or silence):
        return NOTHING
    alerts: list[Alert] = []
    if sent is not None and labels != sent.labels:  # a severity change is a new alert
        alerts += _copies(alarm, sent.labels, sent.level, now, zone)
    if changed or due:
        ends = now + timedelta(seconds=timing.ttl_s)
        alerts += _copies(alarm, labels, level, ends, zone)
    delivery = Delivery(
        alarm_id=alarm.id,
        labels=labels,
        first_sent_at=first_sent,
        last_sent_at=now if alerts or sent is None else sent.last_sent_at,
        level=level,
        silence_id=sent.silence_id if sent is not None else None,
    )
    return Plan(alerts=alerts, silence=silence, delivery=delivery)


def _copies(
    alarm: Alarm, labels: dict[str, str], level: int, ends: datetime, zone: ZoneInfo
) -> list[Alert]:
    """The alarm as posted to each group that hears it: the first, then one copy per
    escalation level reached (label `escalation`: "1", "2", ...)."""
    annotations = summaries(
        AlarmText(
            alarm_type=labels["alarm_type"],
            severity=labels["severity"],
            usage=alarm.usage_id,
            equipment=alarm.equipment_id,
            entity=alarm.entity_id,
            start=alarm.start_ts,
            occurrences=alarm.occurrences,
        ),
        zone,
    )
    return [
        Alert(
            labels={**labels, ESCALATION_LABEL: str(n)} if n else labels,
            annotations=annotations,
            starts_at=alarm.start_ts,
            ends_at=max(ends, alarm.start_ts),
        )
        for n in range(level + 1)
    ]
