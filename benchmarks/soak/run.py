"""The soak under faults: MQTT -> connector -> Apache Kafka -> two workers -> PostgreSQL.

Devices publish the fleet's readings over MQTT (QoS 1) to `smati connector mqtt`; two
`smati worker` processes share the raw partitions in one consumer group. During the run,
at set fractions of the readings sent, one worker is killed with -9 and started again
(twice), and the connector is stopped (SIGTERM) and started again (once). When every
reading published is committed, the database must hold each exactly once.

Figures:
- `missing`: readings published and not stored (with their value); `duplicates`: rows
  beyond those published plus the dead letters `duplicate` (a reading carried twice
  through Kafka under another origin, which the worker refuses);
- `rps`: readings sent / seconds from the first published to the last committed;
- `peak_rss_mb`: the highest RSS of a worker, sampled every SAMPLE_S (psutil);
- `recovery_s`, one per kill: from the kill until every raw partition is consumed again,
  i.e. its committed offset has passed its value at the kill (or reached the end), which
  needs the killed worker's partitions taken over (by the rebalance after its session
  timed out, or by the restarted worker);
- `connector_recovery_s`: from the connector's stop until the raw topic grows again;
- `lag_end`: the raw topic's end offsets minus the group's committed ones at the end.
"""

from __future__ import annotations

import os
import signal
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import psutil
import psycopg
from confluent_kafka import KafkaException

from benchmarks.fleet import fleet_registry
from benchmarks.soak.accounting import dead_letters_by_code, tally_readings
from benchmarks.soak.publisher import Publisher, fleet_readings, history_start
from models.dead_letter import RejectCode
from models.settings import Settings
from models.transmission import OffsetSnapshot
from services import ServiceStack
from services.processes import RoleProcess, settings_env
from storage.migrate import migrate
from storage.registry_store import save_registry
from stream.topics import ensure_topics
from stream.transmission import PipelineOffsets

SAMPLE_S = 0.5
Say = Callable[[str], None]


@dataclass(frozen=True)
class Endpoints:
    kafka_bootstrap: str
    database_url: str
    mqtt_url: str


@dataclass(frozen=True)
class SoakPlan:
    readings: int = 1_000_000
    usages: int = 10_000
    period_s: float = 600.0
    """The readings' spacing per usage; the history ends about now."""
    worker_kills: tuple[float, ...] = (0.3, 0.6)
    """Fractions of the readings sent at which a worker is killed with -9 and restarted."""
    connector_restarts: tuple[float, ...] = (0.45,)
    max_backlog: int = 50_000
    """Readings sent and not yet committed at most: the publisher waits beyond."""
    session_timeout_s: float = 10.0
    stall_s: float = 180.0
    """Give up waiting for the end when no offset moved for this long (then count)."""


@dataclass(frozen=True)
class SoakFigures:
    readings: int
    usages: int
    sent: int
    stored: int
    missing: int
    duplicates: int
    dead_letters: dict[str, int]
    rps: float
    peak_rss_mb: float
    recovery_s: list[float]
    connector_recovery_s: list[float]
    lag_end: int
    wall_s: float
    logs: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Recovery:
    """A fault's clock: from `began` until `recovered(snapshot)` holds."""

    began: float
    recovered: Callable[[OffsetSnapshot], bool]
    seconds: float | None = None


@dataclass
class Roles:
    """The connector and the two workers, as `smati` child processes."""

    env: dict[str, str]
    logs: Path
    workers: list[RoleProcess] = field(default_factory=list)
    connector: RoleProcess | None = None
    started: int = 0

    def start(self, role: list[str]) -> RoleProcess:
        self.started += 1
        return RoleProcess(role, self.env, self.logs / f"{role[-1]}-{self.started}.log")

    def all(self) -> list[RoleProcess]:
        return [*self.workers, *([self.connector] if self.connector else [])]

    def stop(self) -> None:
        for process in self.all():
            process.stop()


def run_soak(endpoints: Endpoints, plan: SoakPlan, logs: Path, say: Say) -> SoakFigures:
    """The soak on these services; its processes' logs in `logs`."""
    began = time.monotonic()
    settings, env = _prepare(endpoints, plan, logs)
    roles = Roles(env, logs)
    start = history_start(plan.readings, plan.usages, plan.period_s)
    try:
        soak = Soak(settings, plan, roles, say)
        soak.start_roles()
        publisher = Publisher(
            endpoints.mqtt_url,
            settings.mqtt_topics[0],
            fleet_readings(plan.readings, plan.usages, start, plan.period_s),
            soak.in_flight,
            plan.max_backlog,
        )
        lag_end, seconds = soak.run(publisher)
    finally:
        roles.stop()
    say("counting the readings stored and the dead letters")
    tally = tally_readings(
        endpoints.database_url, fleet_readings(plan.readings, plan.usages, start, plan.period_s)
    )
    letters = dead_letters_by_code(endpoints.kafka_bootstrap, settings.topic("dead-letter"))
    return SoakFigures(
        readings=plan.readings,
        usages=plan.usages,
        sent=publisher.sent,
        stored=tally.stored,
        missing=tally.missing,
        duplicates=tally.beyond + letters[RejectCode.DUPLICATE],
        dead_letters={code.value: count for code, count in letters.items()},
        rps=round(publisher.sent / seconds, 1),
        peak_rss_mb=round(soak.peak_rss / 2**20, 1),
        recovery_s=soak.recoveries(soak.worker_recoveries),
        connector_recovery_s=soak.recoveries(soak.connector_recoveries),
        lag_end=lag_end,
        wall_s=round(time.monotonic() - began, 1),
        logs=str(logs),
    )


def _prepare(endpoints: Endpoints, plan: SoakPlan, logs: Path) -> tuple[Settings, dict[str, str]]:
    """Topics of the run's own, the fleet registered; the roles' settings and environment."""
    run = uuid.uuid4().hex[:8]
    overrides = {
        "kafka_bootstrap": endpoints.kafka_bootstrap,
        "database_url": endpoints.database_url,
        "mqtt_url": endpoints.mqtt_url,
        "topic_prefix": f"soak-{run}",
        "app_id": f"smati-soak-{run}",
        "state_dir": str(logs / "state"),
        "mqtt_client_id": f"soak-connector-{run}",
        "mqtt_topics": [f"soak-{run}/{{device_id}}/up"],
        "web_port": 0,
        "mqtt_web_port": 0,
        "broker_session_timeout_s": plan.session_timeout_s,
    }
    settings = Settings.model_validate(overrides)
    migrate(endpoints.database_url)
    with psycopg.connect(endpoints.database_url) as conn:
        save_registry(conn, fleet_registry(plan.usages, plan.period_s))
    ensure_topics(settings)
    return settings, {**os.environ, **settings_env(overrides)}


class Soak:
    """Watches the offsets and the workers' memory, and injects the faults on schedule."""

    def __init__(self, settings: Settings, plan: SoakPlan, roles: Roles, say: Say) -> None:
        self.plan, self.roles, self.say = plan, roles, say
        self.offsets = PipelineOffsets(settings)
        self.committed = 0
        self.peak_rss = 0
        self.worker_recoveries: list[Recovery] = []
        self.connector_recoveries: list[Recovery] = []
        faults = [(f, self._kill_worker) for f in plan.worker_kills]
        faults += [(f, self._restart_connector) for f in plan.connector_restarts]
        self._faults = sorted(faults, key=lambda fault: fault[0])

    def start_roles(self) -> None:
        self.roles.connector = self.roles.start(["connector", "mqtt"])
        self.roles.workers = [self.roles.start(["worker"]) for _ in range(2)]
        self.roles.connector.wait_for_line("subscribed to")
        for worker in self.roles.workers:
            worker.wait_for_line("Ready", timeout=120)

    def in_flight(self, sent: int) -> int:
        """Readings sent and not yet committed (as of the last snapshot)."""
        return sent - self.committed

    def run(self, publisher: Publisher) -> tuple[int, float]:
        """Until every reading sent is committed (or nothing moved for `stall_s`): the lag
        then, and the seconds from the first reading published."""
        self.say(f"publishing {self.plan.readings} readings over MQTT")
        began = time.monotonic()
        publisher.start()
        moved, last = began, (0, 0)
        while True:
            time.sleep(SAMPLE_S)
            snapshot = self._snapshot()
            if snapshot is None:
                continue
            self._tick(publisher, snapshot)
            ends = sum(snapshot.ends.values())
            lag = ends - self.committed
            if not publisher.is_alive() and not self._faults and not lag and ends >= publisher.sent:
                return lag, time.monotonic() - began
            if (ends, self.committed) != last:
                moved, last = time.monotonic(), (ends, self.committed)
            elif time.monotonic() - moved > self.plan.stall_s:
                self.say(f"nothing moved for {self.plan.stall_s} s: counting what is there")
                return lag, time.monotonic() - began

    def recoveries(self, clocks: list[Recovery]) -> list[float]:
        return [round(clock.seconds, 2) for clock in clocks if clock.seconds is not None]

    def _snapshot(self) -> OffsetSnapshot | None:
        try:
            snapshot = self.offsets.snapshot()
        except KafkaException as error:
            self.say(f"offsets not read this time: {error}")
            return None
        self.committed = sum(snapshot.committed.get(p, 0) for p in snapshot.ends)
        return snapshot

    def _tick(self, publisher: Publisher, snapshot: OffsetSnapshot) -> None:
        if publisher.error is not None:
            raise publisher.error
        for process in self.roles.all():
            process.raise_if_dead()
        self._sample_rss()
        for clock in [*self.worker_recoveries, *self.connector_recoveries]:
            if clock.seconds is None and clock.recovered(snapshot):
                clock.seconds = time.monotonic() - clock.began
        while self._faults and publisher.sent >= self._faults[0][0] * self.plan.readings:
            self._faults.pop(0)[1](snapshot)

    def _sample_rss(self) -> None:
        for worker in self.roles.workers:
            try:
                rss = psutil.Process(worker.process.pid).memory_info().rss
            except psutil.NoSuchProcess:
                continue
            self.peak_rss = max(self.peak_rss, rss)

    def _kill_worker(self, snapshot: OffsetSnapshot) -> None:
        """Kill -9 the first worker and start another in its place at once."""
        self.say(f"kill -9 a worker after {self.committed} readings committed")
        killed = self.roles.workers[0].process
        os.kill(killed.pid, signal.SIGKILL)
        killed.wait()
        began = time.monotonic()
        self.roles.workers[0] = self.roles.start(["worker"])
        at_kill = dict(self._snapshot_or(snapshot).committed)

        def consumed_again(now: OffsetSnapshot) -> bool:
            return all(
                now.committed.get(p, 0) > at_kill.get(p, 0) or now.committed.get(p, 0) >= end
                for p, end in now.ends.items()
            )

        self.worker_recoveries.append(Recovery(began, consumed_again))

    def _restart_connector(self, snapshot: OffsetSnapshot) -> None:
        """Stop the connector gracefully (SIGTERM) and start another at once."""
        self.say("restarting the MQTT connector")
        assert self.roles.connector is not None
        began = time.monotonic()
        self.roles.connector.stop()
        at_stop = sum(self._snapshot_or(snapshot).ends.values())
        self.roles.connector = self.roles.start(["connector", "mqtt"])

        def publishing_again(now: OffsetSnapshot) -> bool:
            return sum(now.ends.values()) > at_stop

        self.connector_recoveries.append(Recovery(began, publishing_again))

    def _snapshot_or(self, fallback: OffsetSnapshot) -> OffsetSnapshot:
        return self._snapshot() or fallback


def soak_on_own_services(plan: SoakPlan, say: Say) -> SoakFigures:
    """The soak on an Apache Kafka, a PostgreSQL and a Mosquitto of its own."""
    logs = Path(tempfile.mkdtemp(prefix="smati-soak-"))  # kept: the processes' logs
    say(f"logs in {logs}")
    with ServiceStack("apache", use_env=False) as stack:
        endpoints = Endpoints(stack.kafka_bootstrap, stack.database_url, stack.mqtt_url)
        say(f"Apache Kafka on {endpoints.kafka_bootstrap}, MQTT on {endpoints.mqtt_url}")
        return run_soak(endpoints, plan, logs, say)
