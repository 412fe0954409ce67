"""The worker's database, on real PostgreSQL and Apache Kafka: a refused row is
isolated and dead-lettered, and per-usage states survive the worker's memory."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from models.dead_letter import DeadLetter
from models.reading import Reading, UsageType
from models.rules import UsageState
from models.settings import Settings
from models.transmission import TransmissionState, TransmissionStatus
from services import ApacheKafka
from storage.worker_state import USAGE_STATES
from stream.database import WorkerDatabase, store_isolating
from stream.outage import Outage
from stream.outputs import Outputs
from stream.state_cache import StateCache
from stream.topics import ensure_topics, read_topic

pytestmark = pytest.mark.integration
T0 = datetime(2026, 11, 25, 6, 0, tzinfo=UTC)


def reading(n: int, device_id: str = "dev") -> Reading:
    return Reading(
        tenant_id="acme",
        usage_id="u-sink",
        ts=T0 + timedelta(minutes=n),
        value=float(n),
        unit="kWh",
        usage_type=UsageType.INDEX,
        source="test",
        device_id=device_id,
        origin=f"raw/0/{n}",
    )


def test_refused_row_is_dead_lettered_and_the_others_stored(
    database: str, kafka_broker: ApacheKafka
) -> None:
    settings = Settings(kafka_bootstrap=kafka_broker.bootstrap, topic_prefix=uuid.uuid4().hex)
    ensure_topics(settings)
    rows = [reading(n) for n in range(7)]
    rows[4] = reading(4, device_id="bad\x00id")  # PostgreSQL text cannot hold NUL
    outage = Outage(pause=lambda: None, resume=lambda: None)
    outputs, db = Outputs(settings, outage), WorkerDatabase(database, outage)
    refused: list[DeadLetter] = []

    async def store() -> list[int]:
        results = await store_isolating(rows, db.write_readings, refused.append)
        await outputs.publish([], [], refused)
        return [result.inserted for result in results]

    try:
        inserted = asyncio.run(store())
    finally:
        db.close()
        outputs.close()
    assert sum(inserted) == 6
    with psycopg.connect(database) as conn:
        stored = conn.execute("SELECT value FROM readings WHERE usage_id = 'u-sink'").fetchall()
    assert sorted(value for (value,) in stored) == [0, 1, 2, 3, 5, 6]
    (letter,) = map(json.loads, read_topic(settings.kafka_bootstrap, settings.topic("dead-letter")))
    assert letter["code"] == "processing_error" and letter["stage"] == "sink"
    assert letter["reason"].startswith("database: ")
    assert letter["origin"] == "raw/0/4"


def red_since(ts: datetime) -> UsageState:
    transmission = TransmissionState(status=TransmissionStatus.RED, status_since=ts)
    return UsageState(last_ts=ts - timedelta(hours=1), last_value=3.5, transmission=transmission)


def test_states_written_are_read_back_by_a_new_cache_and_by_partition(database: str) -> None:
    db = WorkerDatabase(database, Outage(pause=lambda: None, resume=lambda: None))

    async def scenario() -> None:
        first = StateCache(db, USAGE_STATES)
        await first.fetch(["u-a", "u-b"])
        assert first.get("u-a") == UsageState()  # never stored: a fresh state
        first.put("u-a", red_since(T0), raw_partition=2)
        first.put("u-b", UsageState(last_ts=T0, last_value=1.0), raw_partition=3)
        await db.write_states(USAGE_STATES, first.take_changes())
        assert first.take_changes() == []

        second = StateCache(db, USAGE_STATES)  # a restarted worker
        await second.fetch(["u-a"])
        assert second.get("u-a") == red_since(T0)
        assert await second.stored_keys() == {"u-a": 2, "u-b": 3}
        await second.fetch(["u-b"])
        assert second.holds("u-b") and second.get("u-b").last_value == 1.0
        assert list(second.fed_by({2, 3})) == [("u-a", 2), ("u-b", 3)]
        assert list(second.fed_by({3})) == [("u-b", 3)]

        first.forget()  # a rebalance: memory is dropped, the table read again
        await first.fetch(["u-b"])
        assert not first.holds("u-a") and first.get("u-b") == second.get("u-b")

    try:
        asyncio.run(scenario())
    finally:
        db.close()
    with psycopg.connect(database) as conn:
        row = conn.execute(
            "SELECT raw_partition, status, status_since, last_reading_at FROM usage_states"
            " WHERE usage_id = 'u-a'"
        ).fetchone()
    assert row == (2, "red", T0, T0 - timedelta(hours=1))
