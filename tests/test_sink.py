"""The sink isolates a row the database refuses, instead of stopping the worker."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest

from models.reading import Reading, UsageType
from stream.sink import DatabaseSink, _write_isolating

pytestmark = pytest.mark.integration
T0 = datetime(2026, 11, 25, 6, 0, tzinfo=UTC)


class RecordingTopic:
    """Stands in for the dead-letter topic: this test is about the database side."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    async def send(self, key: bytes, value: bytes) -> None:
        self.sent.append(json.loads(value))


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


def test_refused_row_is_dead_lettered_and_the_others_stored(database: str) -> None:
    rows = [reading(n) for n in range(7)]
    rows[4] = reading(4, device_id="bad\x00id")  # PostgreSQL text cannot hold NUL
    topic = RecordingTopic()
    sink = DatabaseSink(database)
    try:
        results = asyncio.run(_write_isolating(rows, sink.write_readings, topic))  # type: ignore[arg-type]
    finally:
        sink.close()
    assert sum(result.inserted for result in results) == 6
    with psycopg.connect(database) as conn:
        stored = conn.execute("SELECT value FROM readings WHERE usage_id = 'u-sink'").fetchall()
    assert sorted(value for (value,) in stored) == [0, 1, 2, 3, 5, 6]
    (letter,) = topic.sent
    assert letter["code"] == "processing_error" and letter["stage"] == "sink"
    assert letter["reason"].startswith("database: ")
    assert letter["origin"] == "raw/0/4"
