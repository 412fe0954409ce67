"""The demo's notifications: its alarms through a real Alertmanager to a mailbox, a
Teams-shaped webhook and a generic webhook, all on this machine.

Every tenant of the demo gets a `notifications:` section pointing at them (French
messages, reminders every few seconds while unacknowledged), Alertmanager is configured from
that registry, and `smati alerting run` posts the alarms. The summary says where the
notifications went: the e-mails are in a Maildir folder a person can open.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass
from email.message import EmailMessage

import click
import psycopg

from models.alerting import Notifications, alertmanager_config
from models.registry import Registry
from services.alertmanager import Alertmanager
from services.smtp import SmtpServer
from services.waiting import WaitTimeout, wait_until
from services.webhook_receiver import WebhookReceiver

__all__ = ["REMINDER_S", "DemoNotifications", "demo_notifications"]

REMINDER_S = 5
"""Alertmanager's repeat interval: an unacknowledged alarm is reminded every 5 s, so that
the demo shows reminders, and an acknowledgement stopping them, within its run."""


@dataclass(frozen=True)
class DemoNotifications:
    registry: Registry
    """The demo's registry, each tenant with its notifications section."""
    smtp: SmtpServer
    hooks: WebhookReceiver
    """The Teams Workflows stand-in (`/teams/<tenant>`) and the generic webhook
    (`/webhook/<tenant>`, Alertmanager's JSON, naming the alarm ids)."""
    alertmanager: Alertmanager

    def env(self) -> dict[str, str]:
        return {"SMATI_ALERTMANAGER_URL": self.alertmanager.url}

    def wait_until_notified(self, database_url: str, quiet_s: float = 3.0) -> None:
        """Until every open alarm was posted, every cleared one resolved, and none first
        posted for `quiet_s` (not the mailbox: its reminders go on)."""

        def settled() -> bool:
            with psycopg.connect(database_url) as conn:
                row = conn.execute(
                    "SELECT count(*) FILTER (WHERE n.alarm_id IS NULL AND NOT a.cleared"
                    " OR a.cleared AND NOT n.resolved),"
                    " coalesce(extract(epoch FROM now() - max(n.first_sent_at)), 1e9)"
                    " FROM alarms a LEFT JOIN alarm_notifications n ON n.alarm_id = a.id"
                ).fetchone()
            return row is not None and row[0] == 0 and row[1] >= quiet_s

        with suppress(WaitTimeout):  # the summary tells what came by then
            wait_until(settled, timeout=60, what="the notifications", interval=0.5)

    def print_summary(self, usages: list[str]) -> None:
        """Where the notifications went; those naming one of `usages`, each e-mail once
        with the number of times it came (its reminders)."""
        mails = self.smtp.messages()
        cards = [r for r in self.hooks.received() if r.path.startswith("/teams/")]
        click.echo(
            f"notifications through Alertmanager ({self.alertmanager.url}): {len(mails)} "
            f"e-mails received into the Maildir {self.smtp.maildir}, {len(cards)} Teams "
            "cards (Adaptive Cards) to the Workflows stand-in"
        )
        about = Counter(
            (str(mail["Subject"]), _text(mail).strip().splitlines()[0])
            for mail in mails
            if any(usage in _text(mail) for usage in usages)
        )
        for (subject, line), times in about.items():
            click.echo(f"  e-mail ({times} received): {subject}")
            click.echo(f"    {line}")


def _text(mail: EmailMessage) -> str:
    body = mail.get_body(("plain",))
    return "" if body is None else str(body.get_content())


@contextmanager
def demo_notifications(registry: Registry) -> Iterator[DemoNotifications]:
    """The SMTP server, the Teams stand-in and Alertmanager, configured for `registry`."""
    with ExitStack() as stack:
        smtp = stack.enter_context(SmtpServer())
        hooks = stack.enter_context(WebhookReceiver())
        tenants = tuple(
            t.model_copy(update={"notifications": _notifications(t.id, smtp, hooks)})
            for t in registry.tenants
        )
        routed = registry.model_copy(update={"tenants": tenants})
        alertmanager = stack.enter_context(Alertmanager(alertmanager_config(routed)))
        yield DemoNotifications(routed, smtp, hooks, alertmanager)


def _notifications(tenant: str, smtp: SmtpServer, hooks: WebhookReceiver) -> Notifications:
    return Notifications.model_validate(
        {
            "receivers": [
                {
                    "name": "maintenance",
                    "language": "fr",
                    "email": {
                        "to": [f"maintenance@{tenant}.example"],
                        "sender": "smati@localhost",
                        "smarthost": smtp.smarthost,
                        "require_tls": False,
                    },
                    "teams": {"url": hooks.url(f"/teams/{tenant}")},
                    "webhook": {"url": hooks.url(f"/webhook/{tenant}")},
                }
            ],
            "default_receiver": "maintenance",
            "group_by": ["alarm_id"],
            "group_wait_s": 1,
            "group_interval_s": 1,
            "repeat_interval_s": REMINDER_S,
        }
    )
