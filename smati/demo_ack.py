"""The demo's acknowledgement: the silent meter's transmission alarm is acknowledged after
its first reminder, as a person would (`storage.alarms.acknowledge_alarm`, which the CLI
and the HTTP API use), so that the demo shows its reminders stop until it clears.

Its notifications are counted on the demo's generic webhook, which Alertmanager sends with
the e-mail and the Teams card of each notification, naming the alarm ids: those before the
acknowledgement, those after it while the alarm was open (none expected), and the resolved
one its return brings.
"""

from __future__ import annotations

import threading
import time
from contextlib import suppress
from dataclasses import dataclass, field

import click
import psycopg

from models.alarm_status import AlarmStatus
from services.waiting import WaitTimeout, wait_until
from services.webhook_receiver import Received, WebhookReceiver
from smati.demo_notifications import REMINDER_S
from storage.alarms import AlarmFilter, acknowledge_alarm, alarm_with_history, list_alarms

__all__ = ["ACTOR", "SilentAlarmAck", "kinds", "naming"]

ACTOR = "demo"
"""Who acknowledges, in the alarm's history."""
ALARM_TYPE = "transmission"
QUIET_S = 3 * REMINDER_S
"""How long the meter stays silent once its alarm is acknowledged: three reminders' time."""


def naming(received: list[Received], alarm_id: str) -> list[Received]:
    """The webhook notifications (Alertmanager's JSON) that name this alarm."""
    return [
        r
        for r in received
        if any(alert["labels"].get("alarm_id") == alarm_id for alert in r.body.get("alerts", []))
    ]


def kinds(notifications: list[Received]) -> list[str]:
    """What each notification of one alarm says: `first`, `change` (its severity), `reminder`
    (the same firing alerts as the one before) or `resolved`."""
    firing = [
        sorted(a["labels"]["severity"] for a in r.body["alerts"] if a["status"] == "firing")
        for r in notifications
    ]
    said = []
    for i, r in enumerate(notifications):
        if r.body.get("status") == "resolved":
            said.append("resolved")
        else:
            said.append(
                "first" if i == 0 else "reminder" if firing[i] == firing[i - 1] else "change"
            )
    return said


@dataclass
class SilentAlarmAck:
    """Acknowledges the open transmission alarm of `usage` once a reminder of it came to
    `webhook`, and tells what came before and after."""

    webhook: WebhookReceiver
    usage: str
    alarm_id: str | None = None
    """The alarm acknowledged, once it is."""
    acknowledged_at: float | None = None
    """time.time() of the acknowledgement."""
    _stop: threading.Event = field(default_factory=threading.Event)

    def start(self, database_url: str) -> None:
        threading.Thread(target=self._run, args=(database_url,), daemon=True).start()

    def stop(self) -> None:
        self._stop.set()

    def may_return(self) -> bool:
        """Whether the meter may transmit again: acknowledged QUIET_S s ago."""
        acked = self.acknowledged_at
        return acked is not None and time.time() - acked >= QUIET_S

    def notifications(self) -> list[Received]:
        """The notifications of the alarm acknowledged, in the order they came."""
        return [] if self.alarm_id is None else naming(self.webhook.received(), self.alarm_id)

    def resolved(self) -> list[Received]:
        return [r for r in self.notifications() if r.body.get("status") == "resolved"]

    def _run(self, database_url: str) -> None:
        while not self._stop.wait(0.5) and not self._acknowledge(database_url):
            pass

    def _acknowledge(self, database_url: str) -> bool:
        """Acknowledge the usage's open alarm if it was notified twice; whether it was."""
        chosen = AlarmFilter(
            usage_id=self.usage, type=ALARM_TYPE, statuses=(AlarmStatus.ACTIVE_UNACK,)
        )
        with psycopg.connect(database_url) as conn:
            alarms = list_alarms(conn, chosen, limit=1)
            if not alarms or "reminder" not in kinds(
                naming(self.webhook.received(), alarms[0]["id"])
            ):
                return False
            alarm = acknowledge_alarm(
                conn, alarms[0]["id"], ACTOR, tenant_id=alarms[0]["tenant_id"]
            )
        self.alarm_id, self.acknowledged_at = alarm["id"], time.time()
        click.echo(
            f"acknowledged the {ALARM_TYPE} alarm {alarm['id']} of {self.usage} as {ACTOR!r} "
            f"after its first reminder: no reminders until it clears"
        )
        return True

    def wait_until_settled(self, database_url: str) -> None:
        """Until its resolved notification came, if the alarm acknowledged has cleared."""

        def settled() -> bool:
            if self.alarm_id is None or self.resolved():
                return True
            with psycopg.connect(database_url) as conn:
                alarm, _ = alarm_with_history(conn, self.alarm_id, tenant_id=None)
            return not alarm["cleared"]

        with suppress(WaitTimeout):  # the summary tells what came by then
            wait_until(settled, timeout=30, what="the resolved notification", interval=0.5)

    def print_summary(self) -> None:
        acked = self.acknowledged_at
        if acked is None:
            click.echo(f"the {ALARM_TYPE} alarm of {self.usage} was not acknowledged")
            return
        received = self.notifications()
        cleared = min((r.at for r in self.resolved()), default=float("inf"))
        before = [r for r in received if r.at < acked]
        while_acked = [r for r in received if acked <= r.at < cleared]
        click.echo(
            f"notifications of the {ALARM_TYPE} alarm {self.alarm_id} of {self.usage}: "
            f"{len(before)} before its acknowledgement, {len(while_acked)} while acknowledged, "
            f"{len(self.resolved())} resolved"
        )
        for r, kind in zip(received, kinds(received), strict=True):
            at = time.strftime("%H:%M:%S", time.gmtime(r.at))
            severities = ", ".join(
                f"{a['labels']['severity']} {a['status']}" for a in r.body["alerts"]
            )
            click.echo(f"  {at}Z {kind:<8} ({severities})")
