"""The notifier on real parts: PostgreSQL (alarm rows written with SQL, as the stream and a
person's acknowledgement write them), a real Alertmanager configured from the registry,
aiosmtpd receiving the e-mail, and loopback HTTP servers standing in for the Teams
Workflows URL and the generic webhooks."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from email.message import EmailMessage
from typing import Any

import httpx
import psycopg
import pytest
from conditions import wait_for
from prometheus_client import REGISTRY

from models.alerting import Timing, alertmanager_config
from models.registry import Registry
from services.alertmanager import Alertmanager
from services.smtp import SmtpServer
from services.webhook_receiver import Received, WebhookReceiver
from storage.alarms import acknowledge_alarm
from storage.registry_store import save_registry
from stream.alertmanager_api import AlertmanagerApi
from stream.notifier import Notifier

pytestmark = pytest.mark.integration

ESCALATION_S = 4.0


def _registry(smtp: SmtpServer, hooks: WebhookReceiver) -> Registry:
    def site(tenant: str) -> dict[str, Any]:
        usage = {"id": f"{tenant}-gas", "type": "index", "unit": "m3", "period_s": 600}
        equipment = {"id": f"{tenant}-boiler", "usages": [usage]}
        return {"id": f"{tenant}-hotel", "timezone": "Europe/Paris", "equipment": [equipment]}

    acme = {
        "receivers": [
            {
                "name": "maintenance",
                "language": "fr",
                "email": {
                    "to": ["maintenance@acme.test"],
                    "sender": "smati@acme.test",
                    "smarthost": smtp.smarthost,
                    "require_tls": False,
                },
                "teams": {"url": hooks.url("/teams")},
                "webhook": {"url": hooks.url("/acme")},
            },
            {"name": "managers", "language": "en", "webhook": {"url": hooks.url("/managers")}},
        ],
        "default_receiver": "maintenance",
        "escalation": [{"after_s": ESCALATION_S, "receiver": "managers"}],
        "group_by": ["alarm_id"],
        "group_wait_s": 0.2,
        "group_interval_s": 1,
        "repeat_interval_s": 2,
    }
    beta = {
        "receivers": [{"name": "ops", "language": "en", "webhook": {"url": hooks.url("/beta")}}],
        "default_receiver": "ops",
        "group_by": ["alarm_id"],
        "group_wait_s": 0.2,
        "group_interval_s": 1,
        "repeat_interval_s": 3600,
    }
    return Registry.model_validate(
        {
            "tenants": [
                {"id": "acme", "entities": [site("acme")], "notifications": acme},
                {"id": "beta", "entities": [site("beta")], "notifications": beta},
            ]
        }
    )


class NotifierThread:
    """The notifier running in a thread, as `smati alerting run` runs it."""

    def __init__(self, database: str, alertmanager_url: str) -> None:
        self.database = database
        self.api = AlertmanagerApi(alertmanager_url)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        notifier = Notifier(self.database, self.api, timing=Timing(), tick_s=0.5)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=notifier.run, args=(self._stop,), daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            assert not self._thread.is_alive(), "the notifier did not stop"


@pytest.fixture(scope="module")
def smtp() -> Iterator[SmtpServer]:
    with SmtpServer() as server:
        yield server


@pytest.fixture(scope="module")
def hooks() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as receiver:
        yield receiver


@pytest.fixture(scope="module")
def alertmanager(database: str, smtp: SmtpServer, hooks: WebhookReceiver) -> Iterator[Alertmanager]:
    registry = _registry(smtp, hooks)
    with psycopg.connect(database) as conn:
        save_registry(conn, registry)
    with Alertmanager(alertmanager_config(registry)) as server:
        yield server


@pytest.fixture(scope="module")
def notifier(database: str, alertmanager: Alertmanager) -> Iterator[NotifierThread]:
    running = NotifierThread(database, alertmanager.url)
    running.start()
    yield running
    running.stop()
    running.api.close()


@pytest.fixture
def db(database: str) -> Iterator[psycopg.Connection]:
    with psycopg.connect(database, autocommit=True) as conn:
        yield conn


def _raise(
    db: psycopg.Connection,
    tenant: str = "acme",
    *,
    alarm_type: str = "threshold_high",
    severity: str = "major",
    flapping: bool = False,
    device: str | None = None,
) -> str:
    """A new open alarm as the stream writes it; its id."""
    alarm_id = uuid.uuid4().hex
    db.execute(
        """
        INSERT INTO alarms (id, tenant_id, entity_id, equipment_id, usage_id, device_id, type,
                            severity, start_ts, last_seen_ts, flapping)
        VALUES (%s, %s, %s, %s, %s, %s, %s, %s, now(), now(), %s)
        """,
        (
            alarm_id, tenant, f"{tenant}-hotel", f"{tenant}-boiler", f"{tenant}-gas-{alarm_id}",
            device or f"dev-{alarm_id}", alarm_type, severity, flapping,
        ),
    )  # fmt: skip
    return alarm_id


def _clear(db: psycopg.Connection, alarm_id: str) -> None:
    db.execute(
        "UPDATE alarms SET cleared = true, end_ts = now(), updated_at = now() WHERE id = %s",
        (alarm_id,),
    )


def _acknowledge(db: psycopg.Connection, alarm_id: str) -> None:
    """As `smati alarms ack` and the HTTP API do it."""
    acknowledge_alarm(db, alarm_id, "jeanne", tenant_id=None)


def _about(received: list[Received], alarm_id: str, status: str | None = None) -> list[Received]:
    """Webhook or Teams notifications that name this alarm (with this status)."""
    return [
        r
        for r in received
        if any(a["labels"]["alarm_id"] == alarm_id for a in r.body.get("alerts", []))
        and (status is None or r.body["status"] == status)
    ]


def _silences(alertmanager: Alertmanager, alarm_id: str) -> list[dict[str, Any]]:
    query = {"filter": f'alarm_id="{alarm_id}"'}
    found = httpx.get(f"{alertmanager.url}/api/v2/silences", params=query).json()
    return [s for s in found if s["status"]["state"] == "active"]


def _passes() -> float:
    return REGISTRY.get_sample_value("smati_notifications_passes_total") or 0.0


def test_an_alarm_reaches_the_mailbox_teams_and_the_webhook(
    db: psycopg.Connection, notifier: NotifierThread, smtp: SmtpServer, hooks: WebhookReceiver
) -> None:
    alarm_id = _raise(db, severity="critical")

    mails = wait_for(smtp.messages, lambda ms: bool(_mentioning(ms, alarm_id)), timeout=30)
    mail = _mentioning(mails, alarm_id)[0]
    assert mail["Subject"].startswith("[ALARME] threshold_high acme-hotel")
    assert mail["To"] == "maintenance@acme.test"
    text = _text(mail)
    assert f"ALARME: Alarme critique threshold_high : usage acme-gas-{alarm_id}" in text
    assert "bâtiment acme-hotel, depuis le" in text
    assert " CET (1 occurrence(s))" in text or " CEST (1 occurrence(s))" in text

    card = wait_for(lambda: _about_teams(hooks, alarm_id), bool, timeout=30)[0]
    attachment = card["attachments"][0]
    assert card["type"] == "message"
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    content = attachment["content"]
    assert content["type"] == "AdaptiveCard"
    texts = [block.get("text", "") for block in content["body"]]
    assert any(t.startswith("[ALARME] threshold_high") for t in texts)
    assert any("Alarme critique threshold_high" in t for t in texts)

    hook = wait_for(lambda: _about(hooks.received("/acme"), alarm_id), bool, timeout=30)[0]
    (alert,) = hook.body["alerts"]
    assert alert["labels"] == {
        "tenant": "acme",
        "entity": "acme-hotel",
        "equipment": "acme-boiler",
        "usage": f"acme-gas-{alarm_id}",
        "device": f"dev-{alarm_id}",
        "alarm_type": "threshold_high",
        "severity": "critical",
        "alarm_id": alarm_id,
    }
    assert alert["annotations"]["summary_en"].startswith("critical alarm threshold_high: usage")
    assert hook.body["status"] == "firing"

    _clear(db, alarm_id)
    resolved = wait_for(lambda: _resolved_mails(smtp, alarm_id), bool, timeout=30)[0]
    assert resolved["Subject"] == "[RÉSOLUE] threshold_high acme-hotel (1)"
    assert f"RÉSOLUE: Alarme critique threshold_high : usage acme-gas-{alarm_id}" in _text(resolved)


def _resolved_mails(smtp: SmtpServer, alarm_id: str) -> list[EmailMessage]:
    return [m for m in _mentioning(smtp.messages(), alarm_id) if "RÉSOLUE" in m["Subject"]]


def _mentioning(mails: list[EmailMessage], alarm_id: str) -> list[EmailMessage]:
    return [m for m in mails if alarm_id in _text(m)]


def _text(mail: EmailMessage) -> str:
    body = mail.get_body(("plain",))
    return "" if body is None else str(body.get_content())


def _about_teams(hooks: WebhookReceiver, alarm_id: str) -> list[Any]:
    """Teams cards do not carry labels: the card's text names the alarm's usage."""
    return [r.body for r in hooks.received("/teams") if f"acme-gas-{alarm_id}" in str(r.body)]


def test_a_cleared_alarm_is_resolved_once(
    db: psycopg.Connection, notifier: NotifierThread, hooks: WebhookReceiver
) -> None:
    alarm_id = _raise(db, "beta")
    wait_for(lambda: _about(hooks.received("/beta"), alarm_id, "firing"), bool, timeout=30)
    _clear(db, alarm_id)
    wait_for(lambda: _about(hooks.received("/beta"), alarm_id, "resolved"), bool, timeout=30)
    # Another alarm of the same tenant notified after it: the resolution was not repeated
    # meanwhile (nor by the notifier's later passes, which would post it again).
    passes = _passes()
    later = _raise(db, "beta")
    wait_for(lambda: _about(hooks.received("/beta"), later, "firing"), bool, timeout=30)
    wait_for(_passes, lambda n: n >= passes + 2, timeout=30)
    assert len(_about(hooks.received("/beta"), alarm_id, "resolved")) == 1
    assert len(_about(hooks.received("/beta"), alarm_id, "firing")) == 1


def test_an_alarm_cleared_before_the_notifier_saw_it_is_told_then_resolved(
    db: psycopg.Connection, notifier: NotifierThread, hooks: WebhookReceiver
) -> None:
    with db.transaction():  # raised and cleared in one of the stream's batches
        alarm_id = _raise(db, "beta")
        _clear(db, alarm_id)
    wait_for(lambda: _about(hooks.received("/beta"), alarm_id, "resolved"), bool, timeout=30)
    (firing,) = _about(hooks.received("/beta"), alarm_id, "firing")
    (resolved,) = _about(hooks.received("/beta"), alarm_id, "resolved")
    assert firing.at < resolved.at


def test_an_acknowledged_alarm_gets_no_reminder(
    db: psycopg.Connection,
    notifier: NotifierThread,
    alertmanager: Alertmanager,
    hooks: WebhookReceiver,
) -> None:
    acked, control = _raise(db), _raise(db)
    wait_for(lambda: _about(hooks.received("/acme"), acked), bool, timeout=30)
    _acknowledge(db, acked)
    wait_for(lambda: _silences(alertmanager, acked), bool, timeout=30)
    # A flush that began before the silence may still land: count from the control's
    # next reminder, then let it have two more (repeat_interval is 2 s).
    start = len(_about(hooks.received("/acme"), control))
    wait_for(lambda: len(_about(hooks.received("/acme"), control)), lambda n: n > start)
    seen = len(_about(hooks.received("/acme"), acked))
    wait_for(lambda: len(_about(hooks.received("/acme"), control)), lambda n: n >= start + 3)
    assert len(_about(hooks.received("/acme"), acked)) == seen
    assert len(_silences(alertmanager, acked)) == 1

    _clear(db, acked)
    wait_for(lambda: _silences(alertmanager, acked), lambda found: not found, timeout=30)


def test_an_unacknowledged_alarm_escalates_after_its_delay(
    db: psycopg.Connection, notifier: NotifierThread, hooks: WebhookReceiver
) -> None:
    raised_at = time.time()  # before the first notification, which the delay counts from
    escalated, acked = _raise(db), _raise(db)
    wait_for(lambda: _about(hooks.received("/acme"), escalated), bool, timeout=30)
    _acknowledge(db, acked)
    up = wait_for(lambda: _about(hooks.received("/managers"), escalated), bool, timeout=60)[0]
    (alert,) = up.body["alerts"]
    assert alert["labels"]["escalation"] == "1"
    assert up.at - raised_at >= ESCALATION_S  # not before its delay
    assert not _about(hooks.received("/managers"), acked)


def test_a_flapping_alarm_notifies_once(
    db: psycopg.Connection,
    notifier: NotifierThread,
    alertmanager: Alertmanager,
    hooks: WebhookReceiver,
) -> None:
    alarm_id = _raise(db, "beta", flapping=True, severity="minor")
    wait_for(lambda: _about(hooks.received("/beta"), alarm_id), bool, timeout=30)
    for n, severity in enumerate(["major", "minor", "critical", "warning", "major"], start=2):
        db.execute(
            "UPDATE alarms SET severity = %s, occurrences = %s, last_seen_ts = now() WHERE id = %s",
            (severity, n, alarm_id),
        )
    passes = _passes()
    wait_for(_passes, lambda n: n >= passes + 2, timeout=30)
    later = _raise(db, "beta")
    wait_for(lambda: _about(hooks.received("/beta"), later), bool, timeout=30)
    alerts = httpx.get(
        f"{alertmanager.url}/api/v2/alerts", params={"filter": f'alarm_id="{alarm_id}"'}
    ).json()
    assert [a["labels"]["severity"] for a in alerts] == ["minor"]
    assert len(_about(hooks.received("/beta"), alarm_id)) == 1


def test_a_cut_device_holds_its_other_alarms(
    db: psycopg.Connection, notifier: NotifierThread, hooks: WebhookReceiver
) -> None:
    _raise(db, alarm_type="transmission", severity="critical", device="dev-cut")
    held = _raise(db, device="dev-cut")
    told = _raise(db, device="dev-fine")
    wait_for(lambda: _about(hooks.received("/acme"), told), bool, timeout=30)
    passes = _passes()
    wait_for(_passes, lambda n: n >= passes + 2, timeout=30)
    assert not _about(hooks.received("/acme"), held)


def test_a_restarted_notifier_doubles_nothing(
    db: psycopg.Connection,
    notifier: NotifierThread,
    alertmanager: Alertmanager,
    hooks: WebhookReceiver,
) -> None:
    acked, cleared = _raise(db, "beta"), _raise(db, "beta")
    wait_for(lambda: _about(hooks.received("/beta"), cleared), bool, timeout=30)
    _acknowledge(db, acked)
    _clear(db, cleared)
    wait_for(lambda: _silences(alertmanager, acked), bool, timeout=30)
    wait_for(lambda: _about(hooks.received("/beta"), cleared, "resolved"), bool, timeout=30)
    stored = _deliveries(db, acked, cleared)

    notifier.stop()
    notifier.start()
    passes = _passes()
    wait_for(_passes, lambda n: n >= passes + 2, timeout=30)
    later = _raise(db, "beta")
    wait_for(lambda: _about(hooks.received("/beta"), later), bool, timeout=30)

    assert len(_silences(alertmanager, acked)) == 1
    assert len(_about(hooks.received("/beta"), cleared, "resolved")) == 1
    assert len(_about(hooks.received("/beta"), cleared, "firing")) == 1
    assert _deliveries(db, acked, cleared) == stored


def _deliveries(db: psycopg.Connection, *alarm_ids: str) -> list[tuple[Any, ...]]:
    """What the notifier keeps of these alarms, but for when it last posted them."""
    return db.execute(
        "SELECT alarm_id, labels, first_sent_at, level, resolved, silence_id "
        "FROM alarm_notifications WHERE alarm_id = ANY(%s) ORDER BY alarm_id",
        (list(alarm_ids),),
    ).fetchall()
