"""What the notifier sends for an alarm (models.alerting.plan), without any service."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from models.alarm_status import AlarmSeverity
from models.alarms.model import Alarm
from models.alerting import Delivery, Notifications, Stored, Timing, alarm_labels, plan

T0 = datetime(2026, 12, 2, 7, 0, tzinfo=UTC)
PARIS = ZoneInfo("Europe/Paris")
TIMING = Timing(resend_s=60, ttl_s=240)
ROUTING = Notifications.model_validate(
    {
        "receivers": [{"name": "ops", "webhook": {"url": "http://127.0.0.1:1/"}}],
        "default_receiver": "ops",
        "escalation": [{"after_s": 600, "receiver": "ops"}, {"after_s": 1800, "receiver": "ops"}],
    }
)
ALARM = Alarm(
    id="a1",
    tenant_id="acme",
    entity_id="hotel",
    equipment_id="boiler",
    usage_id="gas",
    device_id="dev-1",
    type="threshold_high",
    severity=AlarmSeverity.MAJOR,
    start_ts=T0 - timedelta(minutes=5),
    last_seen_ts=T0 - timedelta(minutes=5),
)
OPEN = Stored(ALARM, acknowledged=False)
ACKED = Stored(ALARM, acknowledged=True)


def _changed(**changes: object) -> Stored:
    return Stored(ALARM.model_copy(update=changes), acknowledged=False)


def _sent(**changes: object) -> Delivery:
    sent = Delivery(alarm_id="a1", labels=alarm_labels(ALARM), first_sent_at=T0, last_sent_at=T0)
    return dataclasses.replace(sent, **changes)  # type: ignore[arg-type]


def test_a_new_alarm_is_posted_firing_until_its_ttl() -> None:
    done = plan(OPEN, None, ROUTING, T0, TIMING, PARIS)
    (alert,) = done.alerts
    assert alert.labels["severity"] == "major" and "escalation" not in alert.labels
    assert alert.ends_at == T0 + timedelta(seconds=240)
    assert alert.annotations["summary_fr"] == (
        "Alarme majeure threshold_high : usage gas, équipement boiler, bâtiment hotel, "
        "depuis le 2026-12-02 07:55 CET (1 occurrence(s))"
    )
    assert done.delivery == _sent()


def test_nothing_is_posted_again_before_the_resend_is_due() -> None:
    assert plan(OPEN, _sent(), ROUTING, T0 + timedelta(seconds=59), TIMING, PARIS).delivery is None
    later = T0 + timedelta(seconds=60)
    again = plan(OPEN, _sent(), ROUTING, later, TIMING, PARIS)
    assert [a.ends_at for a in again.alerts] == [later + timedelta(seconds=240)]


def test_a_severity_change_resolves_the_old_alert_and_posts_the_new() -> None:
    worse = _changed(severity=AlarmSeverity.CRITICAL)
    now = T0 + timedelta(seconds=5)
    old, new = plan(worse, _sent(), ROUTING, now, TIMING, PARIS).alerts
    assert (old.labels["severity"], old.ends_at) == ("major", now)
    assert (new.labels["severity"], new.ends_at) == ("critical", now + timedelta(seconds=240))


def test_a_flapping_alarm_keeps_what_was_told() -> None:
    flapping = _changed(severity=AlarmSeverity.CRITICAL, flapping=True, occurrences=9)
    assert (
        plan(flapping, _sent(), ROUTING, T0 + timedelta(seconds=5), TIMING, PARIS).delivery is None
    )


def test_escalation_levels_count_from_the_first_notification_and_stop_at_the_ack() -> None:
    at = T0 + timedelta(seconds=1800)
    escalated = plan(OPEN, _sent(), ROUTING, at, TIMING, PARIS)
    assert [a.labels.get("escalation") for a in escalated.alerts] == [None, "1", "2"]
    assert escalated.delivery is not None and escalated.delivery.level == 2

    told = _sent(level=1, silence_id="s1", last_sent_at=at - timedelta(seconds=1))
    assert plan(ACKED, told, ROUTING, at, TIMING, PARIS).delivery is None  # stays at level 1


def test_an_acknowledged_alarm_is_silenced_once() -> None:

    first = plan(ACKED, _sent(), ROUTING, T0 + timedelta(seconds=1), TIMING, PARIS)
    assert first.silence and not first.alerts
    assert not plan(ACKED, _sent(silence_id="s1"), ROUTING, T0, TIMING, PARIS).silence


def test_a_cleared_alarm_is_resolved_at_its_end_once_and_its_silence_expired() -> None:
    end = T0 + timedelta(seconds=30)
    cleared = _changed(cleared=True, end_ts=end)
    done = plan(
        cleared, _sent(level=1, silence_id="s1"), ROUTING, T0 + timedelta(hours=1), TIMING, PARIS
    )
    assert [(a.labels.get("escalation"), a.ends_at) for a in done.alerts] == [
        (None, end),
        ("1", end),
    ]
    assert done.expire_silence == "s1"
    assert done.delivery is not None and done.delivery.resolved and done.delivery.silence_id is None
    assert (
        plan(cleared, done.delivery, ROUTING, T0 + timedelta(hours=2), TIMING, PARIS).delivery
        is None
    )


def test_an_alarm_cleared_before_it_was_posted_is_told_then_resolved() -> None:
    cleared = _changed(cleared=True, end_ts=T0)
    told = plan(cleared, None, ROUTING, T0, TIMING, PARIS)
    assert [a.ends_at for a in told.alerts] == [T0 + timedelta(seconds=240)]
    assert told.delivery == _sent()
    # Alertmanager notifies a group group_wait_s (30 s here) after its first alert:
    early = T0 + timedelta(seconds=31)
    assert plan(cleared, told.delivery, ROUTING, early, TIMING, PARIS).delivery is None
    later = T0 + timedelta(seconds=33)
    resolved = plan(cleared, told.delivery, ROUTING, later, TIMING, PARIS)
    assert [a.ends_at for a in resolved.alerts] == [T0]
    acked = Stored(cleared.alarm, acknowledged=True)
    assert plan(acked, None, ROUTING, T0, TIMING, PARIS).delivery is None
