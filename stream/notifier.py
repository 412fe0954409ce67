"""The notifier (`smati alerting run`): alarms from the database to Alertmanager.

It lives in `stream/` because it is one more consumer of the stream's output, allowed
what the stream is (models/ for the decisions, storage/ for the reads and writes), and
runs as a long-lived process like the workers; a top-level folder of its own would be a
new layer for one module.

Woken by `LISTEN alarms` (the alarms table's trigger), it reads the changed alarms from
the database, the source of truth (the stream's changes and people's acknowledgements
and clears alike), decides with `models.alerting.plan` what to send, posts it, and then
stores what it sent in `alarm_notifications`. Every `tick_s` it also goes over the
alarms still open: resends before expiry, escalations whose delay has passed. A failure
of Alertmanager or of the database leaves the stored state as it was, and the next pass
does the work again; Alertmanager deduplicates alerts, and silences are looked up before
one is created, so a repeated pass doubles nothing.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import psycopg
from tenacity import Retrying, retry_if_exception_type, wait_exponential

from models.alarm_status import AlarmSeverity, AlarmStatus
from models.alerting.plan import Delivery, Plan, Stored, Timing, plan
from models.alerting.routing import Notifications
from models.metrics import (
    NOTIFICATION_FAILURES,
    NOTIFICATION_PASSES,
    NOTIFIED_ALERTS,
    NOTIFIED_ESCALATIONS,
    NOTIFIED_SILENCES,
    OPEN_ALARMS,
)
from storage.alarm_notifications import (
    alarms_by_id,
    open_alarm_counts,
    pending_alarms,
    save_delivery,
)
from storage.registry_store import load_registry, registry_revision
from stream.alertmanager_api import AlertmanagerApi, AlertmanagerError

__all__ = ["Notifier"]

log = logging.getLogger(__name__)

SILENCE_DAYS = 90.0
"""An acknowledged alarm's silence lasts until the alarm clears, or this long."""


def _utc_now() -> datetime:
    return datetime.now(UTC)


class _Routing:
    """The tenants' routing sections and the buildings' time zones, from the registry."""

    def __init__(self, conn: psycopg.Connection) -> None:
        self.revision = registry_revision(conn)
        registry = load_registry(conn)
        self.notifications: dict[str, Notifications] = {
            t.id: t.notifications for t in registry.tenants if t.notifications is not None
        }
        self.zones = {e.id: ZoneInfo(e.timezone) for t in registry.tenants for e in t.entities}

    def zone(self, entity_id: str) -> ZoneInfo:
        return self.zones.get(entity_id, ZoneInfo("UTC"))


class Notifier:
    """Posts the alarms of `database_url` to the Alertmanager of `api` until stopped."""

    def __init__(
        self,
        database_url: str,
        api: AlertmanagerApi,
        *,
        timing: Timing,
        tick_s: float,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        self.database_url = database_url
        self.api = api
        self.timing = timing
        self.tick_s = tick_s
        self.clock = clock
        self._routing: _Routing | None = None

    def run(self, stop: threading.Event) -> None:
        """Serve until `stop` is set; a lost database connection is opened again."""
        retrying = Retrying(
            retry=retry_if_exception_type(psycopg.OperationalError),
            wait=wait_exponential(multiplier=0.5, max=10.0),
            before_sleep=lambda state: log.error(
                "notifier lost the database (%s); reconnecting",
                state.outcome.exception() if state.outcome else "?",
            ),
        )
        for attempt in retrying:
            with attempt:
                self._serve(stop)

    def _serve(self, stop: threading.Event) -> None:
        with (
            psycopg.connect(self.database_url, autocommit=True) as listener,
            psycopg.connect(self.database_url, autocommit=True) as conn,
        ):
            listener.execute("LISTEN alarms")
            log.info("notifier listening on channel alarms, posting to %s", self.api.url)
            next_pass = 0.0
            while not stop.is_set():
                if time.monotonic() >= next_pass:
                    self._refresh_routing(conn)
                    self.handle(conn, pending_alarms(conn))
                    _count_open_alarms(conn)
                    NOTIFICATION_PASSES.inc()
                    next_pass = time.monotonic() + self.tick_s
                woken = _notified_ids(listener, min(1.0, next_pass - time.monotonic()))
                if woken:
                    self.handle(conn, alarms_by_id(conn, woken))

    def _refresh_routing(self, conn: psycopg.Connection) -> None:
        if self._routing is None or self._routing.revision != registry_revision(conn):
            self._routing = _Routing(conn)

    def handle(
        self, conn: psycopg.Connection, alarms: Sequence[tuple[Stored, Delivery | None]]
    ) -> None:
        """Send what these alarms need; on a failure, keep the stored state for a retry."""
        if self._routing is None:
            self._refresh_routing(conn)
        assert self._routing is not None
        now = self.clock()
        plans = [(sent, self._plan(alarm, sent, now)) for alarm, sent in alarms]
        todo = [(sent, p) for sent, p in plans if p.delivery is not None]
        if not todo:
            return
        try:
            self._send(conn, todo, now)
        except AlertmanagerError as error:
            NOTIFICATION_FAILURES.inc()
            log.error(
                "notifications not sent, retried at the next pass: %s",
                error,
                extra={"throttle": "notifications-not-sent"},  # every pass while it lasts
            )

    def _plan(self, stored: Stored, sent: Delivery | None, now: datetime) -> Plan:
        assert self._routing is not None
        alarm = stored.alarm
        routing = self._routing.notifications.get(alarm.tenant_id)
        return plan(stored, sent, routing, now, self.timing, self._routing.zone(alarm.entity_id))

    def _send(
        self, conn: psycopg.Connection, todo: list[tuple[Delivery | None, Plan]], now: datetime
    ) -> None:
        alerts = [alert for _, p in todo for alert in p.alerts]
        self.api.post_alerts(alerts)
        log.debug(
            "posted %s",
            [(a.labels["alarm_id"], a.labels["severity"], a.ends_at > now) for a in alerts],
        )
        for alert in alerts:
            NOTIFIED_ALERTS.labels("resolved" if alert.ends_at <= now else "firing").inc()
        for sent, p in todo:
            assert p.delivery is not None
            delivery = self._silenced(p, p.delivery, now)
            save_delivery(conn, delivery)
            if delivery.level > (sent.level if sent is not None else 0):
                NOTIFIED_ESCALATIONS.inc()

    def _silenced(self, p: Plan, delivery: Delivery, now: datetime) -> Delivery:
        """The plan's delivery once its silence is created or expired."""
        if p.expire_silence is not None:
            self.api.expire_silence(p.expire_silence)
            NOTIFIED_SILENCES.labels("expired").inc()
        if p.silence:
            silence_id = self.api.silence_alarm(delivery.labels, now, SILENCE_DAYS)
            NOTIFIED_SILENCES.labels("created").inc()
            delivery = dataclasses.replace(delivery, silence_id=silence_id)
        return delivery


def _count_open_alarms(conn: psycopg.Connection) -> None:
    """`smati_alarms_open`, every status and severity present (0 when none is open), so
    that a dashboard and a rule always have the series."""
    counts = open_alarm_counts(conn)
    for status in (AlarmStatus.ACTIVE_UNACK, AlarmStatus.ACTIVE_ACK):
        for severity in AlarmSeverity:
            OPEN_ALARMS.labels(status.value, severity.value).set(counts.get((status, severity), 0))


def _notified_ids(listener: psycopg.Connection, timeout: float) -> list[str]:
    """The alarm ids notified within `timeout` s: the first, and all that came with it."""
    ids = [n.payload for n in listener.notifies(timeout=max(0.0, timeout), stop_after=1)]
    if ids:
        ids += [n.payload for n in listener.notifies(timeout=0.0)]
    return list(dict.fromkeys(ids))
