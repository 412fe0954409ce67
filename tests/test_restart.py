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
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from confluent_kafka import Producer

from benchmarks.fleet import device_id, fleet_registry, raw_uplink, usage_id
from models.settings import Settings
from services import ApacheKafka, free_port
from services.processes import RoleProcess, settings_env
from storage.registry_store import save_registry
from stream.topics import ensure_topics, read_topic
from stream.transmission import PipelineOffsets

pytestmark = pytest.mark.integration
PERIOD = 2.0
STEADY = 12
PAUSING = STEADY  # silent for a while, across the restart
NEVER = STEADY + 1  # registered, never heard


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


@pytest.fixture
def fleet(kafka_broker: ApacheKafka, database: str, tmp_path: Path) -> Iterator[Fleet]:
    run = uuid.uuid4().hex[:8]
    overrides = {
        "kafka_bootstrap": kafka_broker.bootstrap,
        "database_url": database,
        "topic_prefix": f"restart-{run}",
        "app_id": f"smati-restart-{run}",
        "state_dir": str(tmp_path / "state"),
        "broker_session_timeout_s": 6,
        "sink_batch_seconds": 0.2,
        "transmission_check_s": 0.5,
        "status_orange_after": 2.5,
        "status_red_after": 6,
        "gap_after": 4,
    }
    settings = Settings.model_validate(overrides)
    with psycopg.connect(database) as conn:
        conn.execute("TRUNCATE readings, detection_events, status_history, gaps")
        conn.execute("TRUNCATE usage_states, radio_states")
        save_registry(conn, fleet_registry(STEADY + 2, PERIOD))
    ensure_topics(settings)
    env = {**os.environ, **settings_env(overrides)}
    fleet = Fleet(settings, env, tmp_path)
    try:
        yield fleet
    finally:
        for worker in fleet.ports:
            worker.stop()


class Sender(threading.Thread):
    """Every usage but NEVER reports every PERIOD, on schedule; PAUSING skips `pause`."""

    def __init__(self, settings: Settings, seconds: float, pause: tuple[float, float]) -> None:
        super().__init__(daemon=True)
        self.topic = settings.topic("raw")
        self.producer = Producer({"bootstrap.servers": settings.kafka_bootstrap})
        self.seconds, self.pause = seconds, pause
        self.start_at = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=1)
        self.sent: set[tuple[str, datetime]] = set()

    def elapsed(self) -> float:
        return (datetime.now(UTC) - self.start_at).total_seconds()

    def run(self) -> None:
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

    def wait_until(self, elapsed: float) -> None:
        time.sleep(max(0.0, elapsed - self.elapsed()))


def wait_until(condition: Any, timeout: float = 90.0, state: Any = lambda: None) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met in {timeout} s; observed: {state()!r}")
        time.sleep(0.5)


def query(database: str, sql: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(database) as conn:
        return conn.execute(sql).fetchall()


def stored(database: str) -> list[tuple[str, datetime]]:
    return [(u, ts) for u, ts in query(database, "SELECT usage_id, ts FROM readings")]


def statuses(database: str) -> dict[str, list[str]]:
    rows = query(database, "SELECT usage_id, status FROM status_history ORDER BY ts, status")
    found: dict[str, list[str]] = {}
    for usage, status in rows:
        found.setdefault(usage, []).append(status)
    return found


def expect_exactly_once_and_no_false_alarm(fleet: Fleet, sender: Sender, database: str) -> None:
    wait_until(
        lambda: len(stored(database)) >= len(sender.sent), 120, lambda: len(stored(database))
    )
    time.sleep(2)  # a late extra row would show now
    rows = stored(database)
    assert len(rows) == len(set(rows)) == len(sender.sent)
    assert set(rows) == sender.sent
    assert read_topic(fleet.settings.kafka_bootstrap, fleet.settings.topic("dead-letter")) == []
    history = statuses(database)
    for n in range(STEADY):  # violet first if the worker looked before the fleet started
        assert history.get(usage_id(n)) in (["green"], ["violet", "green"]), usage_id(n)
    assert history.get(usage_id(NEVER)) == ["violet"]


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
    wait_until(
        lambda: statuses(database).get(pausing, [])[-4:] == ["green", "orange", "red", "green"],
        60,
        lambda: statuses(database).get(pausing),
    )
    last_before = sender.start_at + timedelta(seconds=6)
    first_after = sender.start_at + timedelta(seconds=30)
    gaps = query(database, "SELECT usage_id, start_ts, end_ts, state FROM gaps")
    assert gaps == [(pausing, last_before, first_after, "closed")]
    orange, red = (
        ts
        for (ts,) in query(
            database,
            f"SELECT ts FROM status_history WHERE usage_id = '{pausing}' "
            "AND status IN ('orange', 'red') ORDER BY ts",
        )
    )
    assert (orange, red) == (
        last_before + timedelta(seconds=2.5 * PERIOD),
        last_before + timedelta(seconds=6 * PERIOD),
    )

    # A graceful stop flushes and commits: nothing is left to replay.
    assert second.stop() == 0
    snapshot = PipelineOffsets(fleet.settings).snapshot()
    for ends, committed in zip(snapshot.ends, snapshot.committed, strict=True):
        assert {p: committed.get(p, 0) for p in ends} == ends


def test_two_workers_share_the_partitions_and_one_takes_over_when_the_other_stops(
    fleet: Fleet, database: str
) -> None:
    leaving, staying = fleet.worker("leaving"), fleet.worker("staying")
    leaving.wait_for_line("Ready", timeout=90)
    staying.wait_for_line("Ready", timeout=90)
    sender = Sender(fleet.settings, seconds=30, pause=(0, 0))
    sender.start()
    sender.wait_until(10)
    wait_until(lambda: readings_stored_by(fleet, leaving) > 0, 30)
    before = readings_stored_by(fleet, staying)
    assert before > 0  # both had partitions
    assert leaving.stop() == 0
    sender.join()
    expect_exactly_once_and_no_false_alarm(fleet, sender, database)
    assert statuses(database).get(usage_id(PAUSING)) in (["green"], ["violet", "green"])
    assert query(database, "SELECT count(*) FROM gaps") == [(0,)]
    assert readings_stored_by(fleet, staying) > before
