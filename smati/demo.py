"""`smati demo`: the whole pipeline on this machine, with nothing configured.

Services (Kafka, PostgreSQL, Mosquitto) are started by `services.ServiceStack`; the
connector and the worker run as child processes, exactly as in production; the
simulator publishes the demo building over MQTT. Ctrl-C stops everything.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path

import click
import paho.mqtt.client as mqtt
import psycopg
from paho.mqtt.enums import CallbackAPIVersion

from models.detection import TRANSMISSION_KINDS
from models.registry import Registry
from models.registry_file import parse_registry
from models.settings import Settings
from services import BrokerChoice, ServiceStack, free_port
from services.processes import RoleProcess
from services.waiting import WaitTimeout, wait_until
from smati.demo_ack import SilentAlarmAck
from smati.demo_notifications import demo_notifications
from smati.simulator import Message, bad_messages, building_messages
from smati.status import status_table
from storage.migrate import migrate
from storage.queries import (
    alarm_counts_by_type,
    alarm_history_of,
    event_counts_by_kind,
    reading_counts,
    recent_events,
)
from storage.registry_store import save_registry
from storage.transmission import transmission_of
from stream.topics import ensure_topics, read_topic

STEP = timedelta(seconds=5)


DEMO_YAML = resources.files("smati").joinpath("examples/demo-building.yaml").read_text("utf-8")

SILENT_DEVICE = "paris-water-01"
"""A device that stops transmitting when the history ends: it turns orange, then red,
which raises its transmission alarm, whose severity rises; the demo acknowledges it after
its first reminder (`smati.demo_ack`), and the meter comes back a few reminder intervals
later, which clears the alarm."""
STORY_WAIT_S = 180.0
"""How long the live part goes on past `--duration` for the silent meter to come back."""
HISTORY_DAYS = 730
"""The hourly past published before the demo's hour, for the reports."""


def demo_registry() -> Registry:
    return parse_registry(DEMO_YAML, "demo-building.yaml")


def run_demo(
    settings: Settings, duration: float | None, broker: BrokerChoice, history_minutes: float
) -> None:
    logs = tempfile.mkdtemp(prefix="smati-demo-logs-")
    with ServiceStack(broker=broker) as stack, demo_notifications(demo_registry()) as notified:
        started = ", ".join(f"{name} {secs:.1f} s" for name, secs in stack.startup_s.items())
        click.echo(f"services up ({stack.kafka_kind} Kafka): {started}; logs in {logs}")
        settings = settings.but(
            kafka_bootstrap=stack.kafka_bootstrap,
            database_url=stack.database_url,
            mqtt_url=stack.mqtt_url,
        )
        url = settings.database_url.get_secret_value()
        click.echo(
            f"transmission status while it runs: smati --database-url '{url}' status "
            f"(the {SILENT_DEVICE} meter stops transmitting when the history ends, and "
            "comes back once its alarm was raised, reminded, and acknowledged for a while: "
            "then it clears)"
        )
        migrate(url)
        registry = notified.registry
        with psycopg.connect(url) as conn:
            save_registry(conn, registry)
        ensure_topics(settings)
        env = {
            "SMATI_MAX_AGE_DAYS": str(HISTORY_DAYS + 10),
            **os.environ,
            **stack.env(),
            "SMATI_WEB_PORT": str(free_port()),
            "SMATI_MQTT_WEB_PORT": "0",
            **notified.env(),
        }
        worker = RoleProcess(["worker"], env, Path(logs) / "worker.log")
        connector = RoleProcess(["connector", "mqtt"], env, Path(logs) / "connector.log")
        notifier = RoleProcess(["alerting", "run"], env, Path(logs) / "notifier.log")
        (silent_usage,) = silent_usages()
        ack = SilentAlarmAck(notified.hooks, silent_usage)
        try:
            connector.wait_for_line("subscribed to")
            ack.start(url)
            published = _simulate(settings, registry, duration, history_minutes, ack.may_return)
            click.echo("simulation over: waiting for the pipeline to store what it received")
            stored = _wait_until_settled(url)
            notified.wait_until_notified(url)
            ack.wait_until_settled(url)
            for role in (worker, connector, notifier):
                role.raise_if_dead()
            _print_summary(settings, url, published, stored, Path(logs))
            notified.print_summary(silent_usages())
            ack.print_summary()
        finally:
            ack.stop()
            notifier.stop()
            connector.stop()
            worker.stop()


def _simulate(
    settings: Settings,
    registry: Registry,
    duration: float | None,
    history_minutes: float,
    silent_may_return: Callable[[], bool],
) -> int:
    """Publish the history at once, the bad messages, then live steps for `duration` s, and
    on until the silent meter, once `silent_may_return`, is back."""
    publisher = _Publisher(settings.mqtt_url)
    now = datetime.now(UTC).replace(microsecond=0)
    start = now - timedelta(minutes=history_minutes)
    try:
        indexes = _publish_past(publisher, registry, start)
        _publish_history_then_live(
            publisher, registry, (start, now), duration, indexes, silent_may_return
        )
    except KeyboardInterrupt:  # Ctrl-C ends the simulation; the summary still comes
        pass
    finally:
        publisher.close()
    return publisher.count


def _publish_past(publisher: _Publisher, registry: Registry, until: datetime) -> dict[str, float]:
    """Two years of hourly history up to the last hour before `until`, where the live
    simulation takes over (no silence between them); the indexes it ends on."""
    from smati.history import history_messages

    end = until.replace(minute=0, second=0, microsecond=0)
    if end < until:  # the history's end is excluded: its last hour is the one before `until`
        end += timedelta(hours=1)
    past = history_messages(registry, end - timedelta(days=HISTORY_DAYS), end)
    publisher.publish([message for _, message in past.messages])
    click.echo(f"published {publisher.count} messages: {HISTORY_DAYS} days of hourly history")
    return past.indexes


def _publish_history_then_live(
    publisher: _Publisher,
    registry: Registry,
    span: tuple[datetime, datetime],
    duration: float | None,
    indexes: dict[str, float],
    silent_may_return: Callable[[], bool],
) -> None:
    start, now = span
    history: list[Message] = []
    live_since, returned = time.monotonic(), False
    for at, message in building_messages(registry, start, STEP, indexes=indexes):
        if at < now:
            history.append(message)
            continue
        if history:
            extra = bad_messages(registry, now) + history[-1:]  # the last one again: a duplicate
            publisher.publish(history + extra)
            click.echo(
                f"published {publisher.count} messages ({len(extra)} bad or duplicated), "
                "going live (Ctrl-C to stop)"
            )
            history, live_since = [], time.monotonic()
        if _live_over(time.monotonic() - live_since, duration, returned):
            break
        time.sleep(max(0.0, (at - datetime.now(UTC)).total_seconds()))
        silent = f"/{SILENT_DEVICE}/" in message.topic
        if not silent or silent_may_return():
            publisher.publish([message])
            returned = returned or silent


def _live_over(live_s: float, duration: float | None, silent_returned: bool) -> bool:
    """Past `duration`, once the silent meter transmitted again (or STORY_WAIT_S later)."""
    if duration is None or live_s < duration:
        return False
    return silent_returned or live_s >= duration + STORY_WAIT_S


class _Publisher:
    """The simulated devices' MQTT client (QoS 1), counting what the broker confirmed."""

    def __init__(self, url: str) -> None:
        host, port = url.removeprefix("mqtt://").rsplit(":", 1)
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="smati-simulator")
        self.client.connect(host, int(port))
        self.client.loop_start()
        self.count = 0

    CHUNK = 1000
    """Messages in flight at most: paho refuses to queue the history's 120,000 at once."""

    def publish(self, messages: list[Message]) -> None:
        for first in range(0, len(messages), self.CHUNK):
            chunk = messages[first : first + self.CHUNK]
            infos = [self.client.publish(m.topic, m.payload, qos=1) for m in chunk]
            for info in infos:
                info.wait_for_publish(timeout=30)
                self.count += 1

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def _wait_until_settled(url: str, quiet_s: float = 3.0, timeout: float = 120.0) -> int:
    """Readings stored, once they and the detections found in them have not moved for
    `quiet_s` seconds (not the transmission events: once the simulation stops, every device
    is silent, and the clock goes on turning them orange, then red)."""
    last, since = (-1, -1), time.monotonic()

    def found_in_readings(conn: psycopg.Connection) -> int:
        counts = event_counts_by_kind(conn)
        return sum(n for kind, n in counts.items() if kind not in TRANSMISSION_KINDS)

    def settled() -> bool:
        nonlocal last, since
        with psycopg.connect(url) as conn:
            counts = (reading_counts(conn).total, found_in_readings(conn))
        if counts != last:
            last, since = counts, time.monotonic()
            return False
        return counts[0] > 0 and time.monotonic() - since >= quiet_s

    with contextlib.suppress(WaitTimeout):  # the summary tells what was stored by then
        wait_until(settled, timeout=timeout, what="readings to settle", interval=0.5)
    return last[0]


def dead_letter_counts(settings: Settings) -> Counter[str]:
    """Dead letters by reject code, read from the topic's beginning."""
    letters = read_topic(settings.kafka_bootstrap, settings.topic("dead-letter"))
    return Counter(json.loads(letter)["code"] for letter in letters)


def silent_usages() -> list[str]:
    """The usages of the meter that stops transmitting."""
    return [
        u for d in demo_registry().devices if d.id == SILENT_DEVICE for u in d.channels.values()
    ]


def _print_summary(settings: Settings, url: str, published: int, stored: int, logs: Path) -> None:
    silent = silent_usages()
    with psycopg.connect(url) as conn:
        detections = event_counts_by_kind(conn)
        latest = recent_events(conn, limit=8)
        transmission = transmission_of(conn)
        alarms = alarm_counts_by_type(conn)
        silent_alarms = alarm_history_of(conn, silent, types=["transmission", "gap"])
    dead = dead_letter_counts(settings)
    click.echo(f"\nMQTT messages published: {published}")
    click.echo(f"readings stored: {stored}")
    click.echo("detections by kind:")
    for kind, count in sorted(detections.items()):
        click.echo(f"  {kind:<22} {count}")
    click.echo("latest detections:")
    for event in latest:
        facts = ", ".join(f"{k}={_short(v)}" for k, v in event.details.items() if v is not None)
        click.echo(f"  {event.ts:%H:%M:%S}Z {event.usage_id:<30} {event.kind:<22} {facts}")
    click.echo("alarms by type (raised, of which cleared):")
    for alarm_type, (raised, cleared) in sorted(alarms.items()):
        click.echo(f"  {alarm_type:<22} {raised:>4} {cleared:>4}")
    click.echo(f"alarms of the meter that stopped transmitting ({SILENT_DEVICE}):")
    for change in silent_alarms:
        click.echo(
            f"  {change['ts']:%Y-%m-%d %H:%M:%S}Z {change['type']:<14} {change['transition']:<18} "
            f"{change['severity']}"
        )
    click.echo("dead letters by reason:")
    for code, count in sorted(dead.items()):
        click.echo(f"  {code:<22} {count}")
    click.echo("transmission status (smati status):")
    click.echo(status_table(transmission, datetime.now(UTC)))
    click.echo(
        f"\nLogs of the worker and the connector: {logs}\n"
        "Next: `smati --help`; point SMATI_KAFKA_BOOTSTRAP, SMATI_DATABASE_URL and "
        "SMATI_MQTT_URL at your own services (README, 'Running against your own services')."
    )


def _short(value: object) -> str:
    return f"{value:.6g}" if isinstance(value, float) else str(value)
