"""The alarms benchmark: readings with defects, through Kafka, the workers, the database, the
notifier and Alertmanager, to a loopback webhook, in one run on this machine.

1. Services: Apache Kafka, PostgreSQL, Alertmanager configured from the registry (the
   fleet's tenant routes every alarm to a loopback webhook, one group per alarm,
   `group_wait` 0), `smati worker` processes and `smati alerting run`.
2. Warm-up: every usage sends one normal reading; the run starts once all are stored.
3. Load: every usage reports once per round, `rate` readings/s in all, for `seconds`.
   `defects` usages, spread over the run, report a value above their max for
   `defect_readings` rounds in a row, then normal values again (their alarm clears).
4. Figures: the offered rate reached (`rate_rps`); for each expected alarm (one per
   defect usage) whether its firing notification reached the webhook (`delivered`,
   `expected`), firing notifications of an alarm after its first (`duplicates`), and the
   latency from the Kafka timestamp of the raw uplink that raised the alarm (its
   reading's time is the alarm's start, Alertmanager's `startsAt`) to the webhook's
   reception (`latency_p50_ms`, `latency_p99_ms`), and that time by stage (`stages`):
   the stream (uplink to alarm stored), the notifier (stored to posted), Alertmanager
   and the webhook (posted to received).
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
from confluent_kafka import Message, Producer

from benchmarks.fleet import device_id, fleet_registry, raw_uplink, usage_id
from models.alerting import Notifications, alertmanager_config
from models.registry import Registry
from models.settings import Settings
from services import ApacheKafka, PostgresServer, free_port
from services.alertmanager import Alertmanager
from services.processes import RoleProcess, settings_env
from services.waiting import WaitTimeout, wait_until
from services.webhook_receiver import Received, WebhookReceiver
from storage.migrate import migrate
from storage.registry_store import save_registry
from stream.topics import ensure_topics

__all__ = ["AlarmFigures", "Load", "run_benchmark"]

PERIOD_S = 60.0
"""The fleet's registered period: far above a round, so no usage turns orange meanwhile."""
NORMAL, DEFECT = 20.0, 150.0
"""A normal reading, and one above the fleet's max (100): a threshold crossing."""
Say = Callable[[str], None]
Sent = dict[tuple[str, datetime], int]
"""(usage, reading time) -> Kafka timestamp (ms) of the defect uplinks."""
Firing = tuple[dict[str, Any], float]
"""A firing alert notified, and when the webhook received it (time.time())."""


@dataclass(frozen=True)
class AlarmFigures:
    rate_rps: float
    latency_p50_ms: float | None
    latency_p99_ms: float | None
    delivered: int
    expected: int
    duplicates: int
    readings: int
    usages: int
    workers: int
    stages: dict[str, dict[str, float | None]]
    """p50 and p99 of each stage: the stream, the notifier, Alertmanager and the webhook."""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Load:
    usages: int
    rate: float
    seconds: float
    defects: int
    defect_readings: int

    @property
    def rounds(self) -> int:
        return max(1, round(self.seconds * self.rate / self.usages))

    def defect_usages(self) -> dict[int, int]:
        """Usage number -> the round its defect starts, spread over the run's rounds."""
        last_start = max(1, self.rounds - self.defect_readings - 1)
        step = max(1, self.usages // max(1, self.defects))
        return {
            (k * step) % self.usages: 1 + (k * last_start) // max(1, self.defects)
            for k in range(self.defects)
        }


def run_benchmark(load: Load, workers: int, say: Say) -> AlarmFigures:
    work = Path(tempfile.mkdtemp(prefix="smati-bench-alarms-"))  # kept: the processes' logs
    say(f"logs in {work}")
    with ExitStack() as stack:
        kafka = stack.enter_context(ApacheKafka())
        database = stack.enter_context(PostgresServer()).url
        hooks = stack.enter_context(WebhookReceiver())
        registry = _registry(load.usages, hooks)
        alertmanager = stack.enter_context(Alertmanager(alertmanager_config(registry)))
        settings = _settings(kafka.bootstrap, database, work)
        migrate(database)
        with psycopg.connect(database) as conn:
            save_registry(conn, registry)
        ensure_topics(settings)
        say(f"{workers} worker(s), the notifier, Alertmanager on {alertmanager.url}")
        stack.enter_context(_roles(settings, alertmanager.url, workers, work))
        sent, rate = _load(settings, database, load, say)
        say(f"published at {rate:.0f} readings/s; waiting for the notifications")
        first = _first_firing(_notifications(hooks, len(load.defect_usages())))
        stages = _stages(database, sent, first)
    return _figures(load, workers, rate, sent, first, stages)


def _load(settings: Settings, database: str, load: Load, say: Say) -> tuple[Sent, float]:
    """The warm-up, then the load; its producer is gone before Kafka stops."""
    start = datetime.now(UTC).replace(microsecond=0)
    producer = Producer({"bootstrap.servers": settings.kafka_bootstrap, "linger.ms": 5})
    _warm_up(producer, settings, database, load.usages, start, say)
    say(f"load: {load.rounds} rounds of {load.usages} readings at {load.rate:.0f}/s")
    return _publish(producer, settings, load, start + timedelta(seconds=1))


def _registry(usages: int, hooks: WebhookReceiver) -> Registry:
    """The fleet, its tenant's alarms all to the webhook, each alarm a group of its own."""
    notifications = Notifications.model_validate(
        {
            "receivers": [{"name": "bench", "webhook": {"url": hooks.url("/bench")}}],
            "default_receiver": "bench",
            "group_by": ["alarm_id"],
            "group_wait_s": 0,
            "group_interval_s": 1,
            "repeat_interval_s": 3600,
        }
    )
    fleet = fleet_registry(usages, PERIOD_S)
    tenants = tuple(t.model_copy(update={"notifications": notifications}) for t in fleet.tenants)
    return fleet.model_copy(update={"tenants": tenants})


def _settings(bootstrap: str, database: str, work: Path) -> Settings:
    run = uuid.uuid4().hex[:8]
    return Settings(
        kafka_bootstrap=bootstrap,
        database_url=database,
        topic_prefix=f"bench-alarms-{run}",
        app_id=f"smati-bench-alarms-{run}",
        state_dir=work / "state",
        sink_batch_seconds=0.1,
    )


@contextmanager
def _roles(
    settings: Settings, alertmanager_url: str, workers: int, work: Path
) -> Iterator[list[RoleProcess]]:
    env = {
        **os.environ,
        **settings_env(
            {
                "kafka_bootstrap": settings.kafka_bootstrap,
                "database_url": settings.database_url.get_secret_value(),
                "topic_prefix": settings.topic_prefix,
                "app_id": settings.app_id,
                "state_dir": settings.state_dir,
                "sink_batch_seconds": settings.sink_batch_seconds,
                "alertmanager_url": alertmanager_url,
                "notifier_tick_s": 1,
            }
        ),
    }
    roles = [
        RoleProcess(["worker"], {**env, "SMATI_WEB_PORT": str(free_port())}, work / f"w{n}.log")
        for n in range(workers)
    ]
    roles.append(RoleProcess(["alerting", "run"], env, work / "notifier.log"))
    try:
        roles[-1].wait_for_line("notifier listening on channel alarms")
        yield roles
    finally:
        for role in roles:
            role.stop()


def _warm_up(
    producer: Producer, settings: Settings, database: str, usages: int, at: datetime, say: Say
) -> None:
    say(f"warm-up: one reading of each of the {usages} usages")
    for n in range(usages):
        _produce(producer, settings, n, at, NORMAL)
    producer.flush(60)

    def stored() -> bool:
        with psycopg.connect(database) as conn:
            row = conn.execute("SELECT count(*) FROM readings").fetchone()
        return bool(row and row[0] >= usages)

    wait_until(stored, timeout=300, what="the warm-up readings to be stored", interval=0.5)


def _publish(
    producer: Producer, settings: Settings, load: Load, first: datetime
) -> tuple[Sent, float]:
    """Every round's readings at the load's pace; the defect uplinks' Kafka timestamps,
    and the rate reached."""
    defects = load.defect_usages()
    sent: Sent = {}
    began = time.monotonic()
    for k in range(load.rounds * load.usages):
        step, n = divmod(k, load.usages)
        at = first + timedelta(seconds=step)
        start = defects.get(n)
        if start is not None and start <= step < start + load.defect_readings:
            _produce(producer, settings, n, at, DEFECT, _timestamp_into(sent, n, at))
        else:
            _produce(producer, settings, n, at, NORMAL + (n + step) % 5)
        pause = began + (k + 1) / load.rate - time.monotonic()
        if pause > 0.005:  # the load's pace, in slices the producer can batch
            producer.poll(0)
            time.sleep(pause)
    producer.flush(60)
    return sent, load.rounds * load.usages / (time.monotonic() - began)


def _produce(
    producer: Producer,
    settings: Settings,
    n: int,
    at: datetime,
    value: float,
    on_delivery: Callable[[object, Message], None] | None = None,
) -> None:
    producer.produce(
        settings.topic("raw"), raw_uplink(n, at, value), device_id(n), on_delivery=on_delivery
    )


def _timestamp_into(sent: Sent, n: int, at: datetime) -> Callable[[object, Message], None]:
    def record(error: object, message: Message) -> None:
        if error is None:
            sent[(usage_id(n), at)] = message.timestamp()[1]

    return record


def _notifications(hooks: WebhookReceiver, expected: int) -> list[Received]:
    """What reached the webhook once every expected alarm was notified, or after 120 s."""

    def firing_alarms() -> int:
        return len({alarm for alarm, _, _ in _firing(hooks.received("/bench"))})

    with suppress(WaitTimeout):  # reported as fewer delivered than expected
        wait_until(lambda: firing_alarms() >= expected, timeout=120, what="the notifications")
    return hooks.received("/bench")


def _firing(received: list[Received]) -> Iterator[tuple[str, dict[str, Any], float]]:
    """(alarm id, alert, reception time) of every firing alert notified."""
    for item in received:
        for alert in item.body.get("alerts", []):
            if alert["status"] == "firing":
                yield alert["labels"]["alarm_id"], alert, item.at


def _first_firing(received: list[Received]) -> tuple[Counter[str], dict[str, Firing]]:
    """Firing notifications per alarm, and each alarm's first (its alert, when received)."""
    firings = list(_firing(received))
    first: dict[str, Firing] = {}
    for alarm, alert, at in firings:
        first.setdefault(alarm, (alert, at))
    return Counter(alarm for alarm, _, _ in firings), first


def _stages(
    database: str, sent: Sent, notified: tuple[Counter[str], dict[str, Firing]]
) -> dict[str, dict[str, float | None]]:
    """Where the time goes, alarm by alarm: from the uplink to the alarm stored (its
    `raised` history row, dated at its transaction's start), to the notifier's first post
    (`alarm_notifications.first_sent_at`), to the webhook's reception."""
    first = notified[1]
    with psycopg.connect(database) as conn:
        rows = conn.execute(
            "SELECT h.alarm_id, h.recorded_at, n.first_sent_at FROM alarm_history h"
            " JOIN alarm_notifications n ON n.alarm_id = h.alarm_id"
            " WHERE h.transition = 'raised' AND h.alarm_id = ANY(%s)",
            (list(first),),
        ).fetchall()
    stages: dict[str, list[float]] = {"stream": [], "notifier": [], "alertmanager": []}
    for alarm_id, stored, posted in rows:
        alert, at = first[alarm_id]
        published = _raised_by(sent, alert)
        if published is not None:
            stages["stream"].append(stored.timestamp() * 1000 - published)
        stages["notifier"].append((posted - stored).total_seconds() * 1000)
        stages["alertmanager"].append(at * 1000 - posted.timestamp() * 1000)
    return {name: _percentiles(values) for name, values in stages.items()}


def _percentiles(values: list[float]) -> dict[str, float | None]:
    p50 = round(statistics.median(values), 1) if values else None
    p99 = round(statistics.quantiles(values, n=100)[98], 1) if len(values) > 1 else None
    return {"p50_ms": p50, "p99_ms": p99}


def _figures(
    load: Load,
    workers: int,
    rate: float,
    sent: Sent,
    notified: tuple[Counter[str], dict[str, Firing]],
    stages: dict[str, dict[str, float | None]],
) -> AlarmFigures:
    counts, first = notified
    latency = _percentiles(
        [
            at * 1000 - published
            for alert, at in first.values()
            if (published := _raised_by(sent, alert)) is not None
        ]
    )
    return AlarmFigures(
        rate_rps=round(rate, 1),
        latency_p50_ms=latency["p50_ms"],
        latency_p99_ms=latency["p99_ms"],
        delivered=len(first),
        expected=len(load.defect_usages()),
        duplicates=sum(n - 1 for n in counts.values()),
        readings=load.rounds * load.usages,
        usages=load.usages,
        workers=workers,
        stages=stages,
    )


def _raised_by(sent: Sent, alert: dict[str, Any]) -> int | None:
    """The Kafka timestamp of the uplink whose reading raised the alert's alarm."""
    starts = datetime.fromisoformat(alert["startsAt"].replace("Z", "+00:00"))
    return sent.get((alert["labels"]["usage"], starts.astimezone(UTC)))
