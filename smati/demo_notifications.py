"""The demo's notifications: its alarms through a real Alertmanager to a mailbox and a
Teams-shaped webhook, both on this machine.

Every tenant of the demo gets a `notifications:` section pointing at them (French
messages, reminders every minute while unacknowledged), Alertmanager is configured from
that registry, and `smati alerting run` posts the alarms. The summary says where the
notifications went: the e-mails are in a Maildir folder a person can open.
"""

from __future__ import annotations

import time
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

__all__ = ["DemoNotifications", "demo_notifications"]


@dataclass(frozen=True)
class DemoNotifications:
    registry: Registry
    """The demo's registry, each tenant with its notifications section."""
    smtp: SmtpServer
    teams: WebhookReceiver
    alertmanager: Alertmanager

    def env(self) -> dict[str, str]:
        return {"SMATI_ALERTMANAGER_URL": self.alertmanager.url}

    def wait_until_notified(self, database_url: str, quiet_s: float = 2.0) -> None:
        """Until every open alarm was posted and the mailbox has not moved for `quiet_s`."""
        last, since = -1, time.monotonic()

        def settled() -> bool:
            nonlocal last, since
            with psycopg.connect(database_url) as conn:
                row = conn.execute(
                    "SELECT count(*) FROM alarms a LEFT JOIN alarm_notifications n"
                    " ON n.alarm_id = a.id WHERE NOT a.cleared AND n.alarm_id IS NULL"
                ).fetchone()
            mails = len(self.smtp.messages())
            if mails != last:
                last, since = mails, time.monotonic()
            return bool(row and row[0] == 0) and time.monotonic() - since >= quiet_s

        with suppress(WaitTimeout):  # the summary tells what came by then
            wait_until(settled, timeout=60, what="the notifications", interval=0.5)

    def print_summary(self, usages: list[str]) -> None:
        """Where the notifications went; those naming one of `usages` in full."""
        mails = self.smtp.messages()
        cards = self.teams.received()
        click.echo(
            f"notifications through Alertmanager ({self.alertmanager.url}): {len(mails)} "
            f"e-mails received into the Maildir {self.smtp.maildir}, {len(cards)} Teams "
            "cards (Adaptive Cards) to the Workflows stand-in"
        )
        for mail in mails:
            if any(usage in _text(mail) for usage in usages):
                click.echo(f"  e-mail: {mail['Subject']}")
                click.echo(f"    {_text(mail).strip().splitlines()[0]}")


def _text(mail: EmailMessage) -> str:
    body = mail.get_body(("plain",))
    return "" if body is None else str(body.get_content())


@contextmanager
def demo_notifications(registry: Registry) -> Iterator[DemoNotifications]:
    """The SMTP server, the Teams stand-in and Alertmanager, configured for `registry`."""
    with ExitStack() as stack:
        smtp = stack.enter_context(SmtpServer())
        teams = stack.enter_context(WebhookReceiver())
        tenants = tuple(
            t.model_copy(update={"notifications": _notifications(t.id, smtp, teams)})
            for t in registry.tenants
        )
        routed = registry.model_copy(update={"tenants": tenants})
        alertmanager = stack.enter_context(Alertmanager(alertmanager_config(routed)))
        yield DemoNotifications(routed, smtp, teams, alertmanager)


def _notifications(tenant: str, smtp: SmtpServer, teams: WebhookReceiver) -> Notifications:
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
                    "teams": {"url": teams.url(f"/teams/{tenant}")},
                }
            ],
            "default_receiver": "maintenance",
            "group_by": ["alarm_id"],
            "group_wait_s": 1,
            "group_interval_s": 5,
            "repeat_interval_s": 60,
        }
    )
