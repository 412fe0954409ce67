"""Alarms through a real worker, Apache Kafka and PostgreSQL, across a kill -9.

A small fleet reports every PERIOD seconds straight to the raw topic: one usage goes out
of range and back, one falls silent (orange, a gap, red, then red long enough to be
critical) and comes back, a meter's index glitches then is reset and its consumption
goes negative once; the worker is killed with -9 while the silent usage's alarm is
open and its duration timer runs. Each defect must give one alarm per (usage, type),
raised then cleared, dated from the data; the critical step exactly when the red status
has lasted its duration, not restarted by the restart; every change stored once and
published on `<prefix>.alarms`.
"""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from conditions import wait_for, wait_until_caught_up
from confluent_kafka import Producer
from test_restart import Fleet, running_fleet

from benchmarks.fleet import device_id, fleet_registry, raw_uplink, usage_id
from models.alarms import DEFAULT_ALARM_RULES
from models.registry import Registry
from models.settings import Settings
from models.uplink import RawUplink
from services import ApacheKafka
from stream.topics import read_topic

pytestmark = pytest.mark.integration
PERIOD = 2.0
STEADY, OUT_OF_RANGE, SILENT = 0, 1, 2
SILENCE = (6.0, 60.0)  # offsets (s) during which SILENT says nothing
OUT = (4.0, 6.0)  # offsets at which OUT_OF_RANGE reads 120 °C (its max is 100)
CRITICAL_AFTER_S = 10.0
SECONDS = 66.0
METER, INDEX, CONSUMPTION = "fleet-meter", "fleet.index", "fleet.consumption"
GLITCH, RESET, NEGATIVE = 5, 10, 6  # steps at which the meter misbehaves


def registry() -> Registry:
    """The fleet and a meter, its tenant's transmission rule turning critical after
    CRITICAL_AFTER_S."""
    document = fleet_registry(3, PERIOD).model_dump(mode="json", exclude_defaults=True)
    meter = [
        {"id": u, "type": u.split(".")[1], "unit": "kWh", "period_s": PERIOD}
        for u in (INDEX, CONSUMPTION)
    ]
    document["tenants"][0]["entities"][0]["equipment"][0]["usages"] += meter
    channels = {"index": INDEX, "consumption": CONSUMPTION}
    document["devices"].append({"id": METER, "tenant": "fleet", "channels": channels})
    rules = [rule.model_dump(mode="json") for rule in DEFAULT_ALARM_RULES]
    (transmission,) = (rule for rule in rules if rule["type"] == "transmission")
    transmission["create"][2]["duration_s"] = CRITICAL_AFTER_S
    document["tenants"][0]["alarm_rules"] = rules
    return Registry.model_validate(document)


def meter_uplink(step: int, at: datetime) -> bytes:
    """The meter's index climbs, glitches down once, is reset near zero; its consumption
    is negative once."""
    index = 1000.0 + 10 * step if step < RESET else 5.0 + 10 * (step - RESET)
    values = {
        "index": 500.0 if step == GLITCH else index,
        "consumption": -5.0 if step == NEGATIVE else 1.0,
    }
    payload = json.dumps({"time": at.isoformat(), "values": values}).encode()
    return RawUplink(source="fleet", device_id=METER, received_at=at, payload=payload).to_json()


class Sender(threading.Thread):
    """Each usage reports every PERIOD on schedule, but SILENT during SILENCE."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(daemon=True)
        self.topic = settings.topic("raw")
        self.producer = Producer({"bootstrap.servers": settings.kafka_bootstrap})
        self.start_at = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=1)

    def at(self, offset: float) -> datetime:
        return self.start_at + timedelta(seconds=offset)

    def elapsed(self) -> float:
        return (datetime.now(UTC) - self.start_at).total_seconds()

    def run(self) -> None:
        for step in range(int(SECONDS / PERIOD)):
            offset = step * PERIOD
            time.sleep(max(0.0, offset - self.elapsed()))
            for n in (STEADY, OUT_OF_RANGE, SILENT):
                if n == SILENT and SILENCE[0] <= offset < SILENCE[1]:
                    continue
                value = 120.0 if n == OUT_OF_RANGE and offset in OUT else 20.0 + step % 3
                uplink = raw_uplink(n, self.at(offset), value)
                self.producer.produce(self.topic, uplink, device_id(n))
            self.producer.produce(self.topic, meter_uplink(step, self.at(offset)), METER)
            self.producer.flush(10)


def query(database: str, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    with psycopg.connect(database) as conn:
        return conn.execute(sql, params).fetchall()


def history(database: str, usage: str, alarm_type: str) -> list[tuple[str, str, datetime]]:
    return [
        (transition, severity, ts)
        for transition, severity, ts in query(
            database,
            "SELECT h.transition, h.severity, h.ts FROM alarm_history h "
            "JOIN alarms a ON a.id = h.alarm_id WHERE a.usage_id = %s AND a.type = %s "
            "ORDER BY h.ts, h.recorded_at",
            (usage, alarm_type),
        )
    ]


@pytest.fixture
def fleet(kafka_broker: ApacheKafka, database: str, tmp_path: Path) -> Iterator[Fleet]:
    with running_fleet(kafka_broker, database, tmp_path, registry(), "alarms") as found:
        yield found


def test_alarms_raised_and_cleared_once_across_a_kill_9(fleet: Fleet, database: str) -> None:
    settings = fleet.settings
    first = fleet.worker("first")
    first.wait_for_line("Ready", timeout=90)
    sender = Sender(settings)
    sender.start()
    silent = usage_id(SILENT)
    wait_for(
        lambda: history(database, silent, "transmission"),
        lambda found: ("severity_changed", "major") in [(t, s) for t, s, _ in found],
        60,
    )
    os.kill(first.process.pid, signal.SIGKILL)  # while the critical timer runs
    first.process.wait()
    assert "critical" not in [s for _, s, _ in history(database, silent, "transmission")]
    second = fleet.worker("second")
    sender.join()
    wait_for(
        lambda: history(database, silent, "transmission"),
        lambda found: bool(found) and found[-1][0] == "cleared",
        60,
    )
    wait_until_caught_up(settings)

    last_before = sender.at(SILENCE[0] - PERIOD)
    orange, red = (last_before + timedelta(seconds=r * PERIOD) for r in (2.5, 6))
    back = sender.at(SILENCE[1])
    assert history(database, silent, "transmission") == [
        ("raised", "warning", orange),
        ("severity_changed", "major", red),
        ("severity_changed", "critical", red + timedelta(seconds=CRITICAL_AFTER_S)),
        ("cleared", "critical", back),
    ]
    (critical_recorded,) = query(
        database,
        "SELECT h.recorded_at FROM alarm_history h JOIN alarms a ON a.id = h.alarm_id "
        "WHERE a.usage_id = %s AND h.severity = 'critical' AND h.transition <> 'cleared'",
        (silent,),
    )
    assert critical_recorded[0] < back  # by the clock, before any reading came back
    assert history(database, silent, "gap") == [  # a gap's events are dated at its start
        ("raised", "minor", last_before),
        ("cleared", "minor", back),
    ]
    assert history(database, usage_id(OUT_OF_RANGE), "threshold") == [
        ("raised", "major", sender.at(OUT[0])),
        ("cleared", "major", sender.at(OUT[-1] + PERIOD)),
    ]
    for usage, alarm_type, severity, step in [
        (INDEX, "decreasing_index", "major", GLITCH),
        (INDEX, "meter_reset", "warning", RESET),
        (CONSUMPTION, "negative_consumption", "major", NEGATIVE),
    ]:
        assert history(database, usage, alarm_type) == [
            ("raised", severity, sender.at(step * PERIOD)),
            ("cleared", severity, sender.at((step + 1) * PERIOD)),
        ], alarm_type
    alarms = query(
        database, "SELECT usage_id, type, cleared, occurrences FROM alarms ORDER BY 1, 2"
    )
    assert alarms == [
        (CONSUMPTION, "negative_consumption", True, 1),
        (INDEX, "decreasing_index", True, 1),
        (INDEX, "meter_reset", True, 1),
        (usage_id(OUT_OF_RANGE), "threshold", True, 1),
        (silent, "gap", True, 1),
        (silent, "transmission", True, 2),
    ]

    published = {
        (change["id"], change["transition"], change["severity"])
        for change in map(
            json.loads, read_topic(settings.kafka_bootstrap, settings.topic("alarms"))
        )
    }
    stored = set(query(database, "SELECT alarm_id, transition, severity FROM alarm_history"))
    assert published == stored
    assert "Traceback" not in second.log()
    assert second.stop() == 0
