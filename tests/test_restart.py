"""Restart safety on real Apache Kafka and PostgreSQL: kill -9, SIGTERM, two workers.

A synthetic fleet sends a reading every PERIOD seconds per usage, straight to the raw
topic, while workers are killed, stopped and started. Every reading must be stored
exactly once, no false transmission alarm may be raised (a steady usage stays green,
with no gap), and a real silence that spans the restart is found once.
"""

from __future__ import annotations

import os
import signal
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from conditions import wait_for, wait_until_caught_up
from confluent_kafka import Producer
from conftest import prepared_run

from benchmarks.fleet import device_id, fleet_registry, raw_uplink, usage_id
from models.detection import TRANSMISSION_KINDS, DetectionKind
from models.registry import Registry
from models.settings import Settings
from models.uplink import RawUplink
from services import ApacheKafka, PostgresServer, free_port
from services.processes import RoleProcess
from storage.migrate import migrate
from stream.topics import read_topic
from stream.transmission import PipelineOffsets

pytestmark = pytest.mark.integration
PERIOD = 2.0
STEADY = 12
PAUSING = STEADY  # silent for a while, across the restart
NEVER = STEADY + 1  # registered, never heard
BACKLOG_SECONDS = 15.0


@dataclass
class Fleet:
    settings: Settings
    env: dict[str, str]
    logs: Path
    ports: dict[RoleProcess, int] = field(default_factory=dict)

    def worker(self, name: str) -> RoleProcess:
        port = free_port()
        env = {**self.env, "SMATI_WEB_PORT": str(port)}
        process = RoleProcess(["worker"], env, self.logs / f"worker-{name}.log")
        self.ports[process] = port
        return process


@contextmanager
def running_fleet(
    kafka: ApacheKafka,
    database: str,
    tmp_path: Path,
    registry: Registry | None = None,
    name: str = "restart",
) -> Iterator[Fleet]:
    """Topics of their own, the fleet (or `registry`) registered in `database`; workers
    stopped after."""
    run = uuid.uuid4().hex[:8]
    overrides = {
        "kafka_bootstrap": kafka.bootstrap,
        "database_url": database,
        "topic_prefix": f"{name}-{run}",
        "app_id": f"smati-{name}-{run}",
        "state_dir": str(tmp_path / "state"),
        "broker_session_timeout_s": 6,
        "sink_batch_seconds": 0.2,
        "transmission_check_s": 0.5,
        "status_orange_after": 2.5,
        "status_red_after": 6,
        "gap_after": 4,
    }
    with psycopg.connect(database) as conn:
        conn.execute("TRUNCATE readings, detection_events, status_history, gaps")
        conn.execute("TRUNCATE usage_states, radio_states")
    registry = registry or fleet_registry(STEADY + 2, PERIOD)
    settings, env = prepared_run(overrides, database, registry)
    fleet = Fleet(settings, env, tmp_path)
    try:
        yield fleet
    finally:
        for worker in fleet.ports:
            worker.stop()


@pytest.fixture
def fleet(kafka_broker: ApacheKafka, database: str, tmp_path: Path) -> Iterator[Fleet]:
    with running_fleet(kafka_broker, database, tmp_path) as fleet:
        yield fleet


@dataclass
class OutageFleet:
    fleet: Fleet
    postgres: PostgresServer


@pytest.fixture
def fleet_on_own_postgres(kafka_broker: ApacheKafka, tmp_path: Path) -> Iterator[OutageFleet]:
    """A fleet whose PostgreSQL the test may stop and start (no other test uses it)."""
    with PostgresServer(use_env=False) as postgres:
        migrate(postgres.url)
        with running_fleet(kafka_broker, postgres.url, tmp_path) as fleet:
            yield OutageFleet(fleet, postgres)


class Sender(threading.Thread):
    """Every usage but NEVER reports every PERIOD, on schedule; PAUSING skips `pause`.

    With a `backlog`, each first delivers that much of its history, in time order, within
    BACKLOG_SECONDS (buffers emptied after a radio outage): readings up to `backlog` older
    than their publication, a worker working through them as they come.
    """

    def __init__(
        self,
        settings: Settings,
        seconds: float,
        pause: tuple[float, float],
        backlog: timedelta = timedelta(0),
    ) -> None:
        super().__init__(daemon=True)
        self.topic = settings.topic("raw")
        self.producer = Producer({"bootstrap.servers": settings.kafka_bootstrap})
        self.seconds, self.pause, self.backlog = seconds, pause, backlog
        delivery = BACKLOG_SECONDS if backlog else 0
        self.start_at = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=1 + delivery)
        self.sent: set[tuple[str, datetime]] = set()

    def elapsed(self) -> float:
        return (datetime.now(UTC) - self.start_at).total_seconds()

    def run(self) -> None:
        self._deliver_backlog()
        for step in range(int(self.seconds / PERIOD)):
            offset = step * PERIOD
            time.sleep(max(0.0, offset - self.elapsed()))
            at = self.start_at + timedelta(seconds=offset)
            silent = self.pause[0] <= offset < self.pause[1]
            for n in range(STEADY + 1):
                if n == PAUSING and silent:
                    continue
                value = 20 + (n + step) % 5
                self.producer.produce(self.topic, raw_uplink(n, at, value), device_id(n))
                self.sent.add((usage_id(n), at))
            self.producer.flush(10)

    def _deliver_backlog(self) -> None:
        steps = int(self.backlog.total_seconds() / PERIOD)
        began = time.monotonic()
        for step in range(steps):
            time.sleep(max(0.0, began + step * BACKLOG_SECONDS / steps - time.monotonic()))
            at = self.start_at - self.backlog + timedelta(seconds=step * PERIOD)
            received = {"received_at": datetime.now(UTC)}
            for n in range(STEADY + 1):
                uplink = RawUplink.from_json(raw_uplink(n, at, 20 + n % 5))
                late = uplink.model_copy(update=received).to_json()
                self.producer.produce(self.topic, late, device_id(n))
                self.sent.add((usage_id(n), at))
            self.producer.poll(0)
        self.producer.flush(30)

    def wait_until(self, elapsed: float) -> None:
        time.sleep(max(0.0, elapsed - self.elapsed()))


def query(database: str, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    with psycopg.connect(database) as conn:
        return conn.execute(sql, params).fetchall()


def stored(database: str) -> list[tuple[str, datetime]]:
    return [(u, ts) for u, ts in query(database, "SELECT usage_id, ts FROM readings")]


def statuses(database: str) -> dict[str, list[str]]:
    rows = query(database, "SELECT usage_id, status FROM status_history ORDER BY ts, status")
    found: dict[str, list[str]] = {}
    for usage, status in rows:
        found.setdefault(usage, []).append(status)
    return found


def expect_exactly_once_and_no_false_alarm(fleet: Fleet, sender: Sender, database: str) -> None:
    wait_for(lambda: len(stored(database)), lambda count: count >= len(sender.sent), 120)
    wait_until_caught_up(fleet.settings)  # so a late extra row would show now
    rows = stored(database)
    assert len(rows) == len(set(rows)) == len(sender.sent)
    assert set(rows) == sender.sent
    assert read_topic(fleet.settings.kafka_bootstrap, fleet.settings.topic("dead-letter")) == []
    history = statuses(database)
    for n in range(STEADY):  # violet first if the worker looked before the fleet started
        assert history.get(usage_id(n)) in (["green"], ["violet", "green"]), usage_id(n)
    assert history.get(usage_id(NEVER)) == ["violet"]


def ready_status(fleet: Fleet, worker: RoleProcess) -> int:
    """The HTTP status of the worker's /ready page."""
    url = f"http://127.0.0.1:{fleet.ports[worker]}/ready"
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return error.code


def readings_stored_by(fleet: Fleet, worker: RoleProcess) -> float:
    """What this worker says it stored, from its own /metrics."""
    url = f"http://127.0.0.1:{fleet.ports[worker]}/metrics"
    with urllib.request.urlopen(url, timeout=10) as response:
        text = response.read().decode()
    return next(
        float(line.split()[1])
        for line in text.splitlines()
        if line.startswith("smati_readings_stored_total ")
    )


def test_kill_9_mid_stream_then_restart_loses_nothing_and_raises_no_false_alarm(
    fleet: Fleet, database: str
) -> None:
    first = fleet.worker("first")
    first.wait_for_line("Ready", timeout=90)
    sender = Sender(fleet.settings, seconds=40, pause=(8, 30))
    sender.start()
    sender.wait_until(14)
    os.kill(first.process.pid, signal.SIGKILL)
    first.process.wait()
    second = fleet.worker("second")
    sender.join()
    expect_exactly_once_and_no_false_alarm(fleet, sender, database)
    pausing = usage_id(PAUSING)
    wait_for(
        lambda: statuses(database).get(pausing, []),
        lambda history: history[-4:] == ["green", "orange", "red", "green"],
        60,
    )
    last_before = sender.start_at + timedelta(seconds=6)
    first_after = sender.start_at + timedelta(seconds=30)
    gaps = query(database, "SELECT usage_id, start_ts, end_ts, state FROM gaps")
    assert gaps == [(pausing, last_before, first_after, "closed")]
    orange, red = (
        ts
        for (ts,) in query(
            database,
            "SELECT ts FROM status_history WHERE usage_id = %s "
            "AND status IN ('orange', 'red') ORDER BY ts",
            (pausing,),
        )
    )
    assert (orange, red) == (
        last_before + timedelta(seconds=2.5 * PERIOD),
        last_before + timedelta(seconds=6 * PERIOD),
    )

    # A graceful stop flushes and commits: nothing is left to replay.
    assert second.stop() == 0
    snapshot = PipelineOffsets(fleet.settings).snapshot()
    assert {p: snapshot.committed.get(p, 0) for p in snapshot.ends} == snapshot.ends


def test_two_workers_share_the_partitions_and_one_takes_over_when_the_other_stops(
    fleet: Fleet, database: str
) -> None:
    leaving, staying = fleet.worker("leaving"), fleet.worker("staying")
    leaving.wait_for_line("Ready", timeout=90)
    staying.wait_for_line("Ready", timeout=90)
    sender = Sender(fleet.settings, seconds=30, pause=(0, 0))
    sender.start()
    sender.wait_until(10)
    wait_for(lambda: readings_stored_by(fleet, leaving), lambda count: count > 0, 30)
    before = readings_stored_by(fleet, staying)
    assert before > 0  # both had partitions
    assert leaving.stop() == 0
    sender.join()
    expect_exactly_once_and_no_false_alarm(fleet, sender, database)
    assert statuses(database).get(usage_id(PAUSING)) in (["green"], ["violet", "green"])
    assert query(database, "SELECT count(*) FROM gaps") == [(0,)]
    assert readings_stored_by(fleet, staying) > before


def test_backdated_burst_then_kill_9_raises_no_false_transmission_event(
    fleet: Fleet, database: str
) -> None:
    """Devices deliver 50 minutes of buffered readings at once, then go on live; the worker
    is killed while it works through them, a new one takes over. They were transmitting
    the whole time: no status change or gap, wherever in the backlog a worker stood."""
    first = fleet.worker("first")
    first.wait_for_line("Ready", timeout=90)
    sender = Sender(fleet.settings, seconds=24, pause=(0, 0), backlog=timedelta(minutes=50))
    sender.start()
    backlog = int(timedelta(minutes=50).total_seconds() / PERIOD) * (STEADY + 1)
    wait_for(lambda: len(stored(database)), lambda count: count > backlog / 3, 120)
    os.kill(first.process.pid, signal.SIGKILL)
    first.process.wait()
    fleet.worker("second")
    sender.join()
    expect_exactly_once_and_no_false_alarm(fleet, sender, database)
    assert statuses(database).get(usage_id(PAUSING)) in (["green"], ["violet", "green"])
    kinds = {kind for (kind,) in query(database, "SELECT DISTINCT kind FROM detection_events")}
    assert kinds & TRANSMISSION_KINDS == {DetectionKind.TRANSMISSION_STATUS}  # no gap event
    assert query(database, "SELECT count(*) FROM gaps") == [(0,)]


def test_database_outage_pauses_the_worker_which_resumes_and_stores_every_reading_once(
    fleet_on_own_postgres: OutageFleet,
) -> None:
    """PostgreSQL stopped for 20 s in the middle of a stream: the worker says it is not
    ready meanwhile, then takes up where it stopped; every reading is stored once."""
    fleet, postgres = fleet_on_own_postgres.fleet, fleet_on_own_postgres.postgres
    worker = fleet.worker("worker")
    worker.wait_for_line("Ready", timeout=90)
    sender = Sender(fleet.settings, seconds=40, pause=(0, 0))
    sender.start()
    wait_for(lambda: len(stored(postgres.url)), lambda count: count > 0, 30)
    assert ready_status(fleet, worker) == 200
    postgres.interrupt()
    stopped_at = time.monotonic()
    wait_for(lambda: ready_status(fleet, worker), lambda status: status == 503, 30)
    worker.raise_if_dead()
    time.sleep(max(0.0, 20 - (time.monotonic() - stopped_at)))  # the outage itself
    assert ready_status(fleet, worker) == 503
    postgres.resume()
    wait_for(lambda: ready_status(fleet, worker), lambda status: status == 200, 60)
    sender.join()
    expect_exactly_once_and_no_false_alarm(fleet, sender, postgres.url)
    assert "Traceback" not in worker.log()
