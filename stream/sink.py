"""The database sink: batches of readings and events, written idempotently.

At-least-once from Kafka plus upserts on natural keys: a replay after a restart writes
nothing twice. A reading sent twice by a device (same usage and time, another origin)
is not written again and goes to the dead-letter topic. A database outage is retried
with back-off and the batch is not acknowledged until it is written, so nothing is lost.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any, TypeVar, cast

import faust
import psycopg
from faust.types import EventT
from pydantic import ValidationError
from tenacity import Retrying, before_sleep_log, retry_if_exception_type, wait_exponential

from models.dead_letter import RejectCode, Rejection
from models.detection import DetectionEvent
from models.radio_health import RadioRecord
from models.reading import Reading
from models.settings import Settings
from storage.transmission import TransmissionRow, write_transmission
from storage.writer import ReadingWriteResult, write_events, write_radio_frames, write_readings
from stream.dead_letters import dead_letter_row, origin_of, original_bytes, send_dead_letter
from stream.metrics import READINGS_STORED

log = logging.getLogger(__name__)
Result = TypeVar("Result")
_RETRY_WHILE_DATABASE_DOWN = Retrying(
    retry=retry_if_exception_type(psycopg.OperationalError),
    wait=wait_exponential(multiplier=0.5, max=30),
    before_sleep=before_sleep_log(log, logging.WARNING),
)


class DatabaseSink:
    """One connection per kind of row, used from a worker thread so the event loop runs on.

    Two tasks may write one kind at once (the readings agent and the transmission clock
    both write `transmission`): a lock per kind keeps their transactions apart.
    """

    def __init__(self, database_url: str) -> None:
        self._database_url = database_url
        self._connections: dict[str, psycopg.Connection] = {}
        self._locks: defaultdict[str, threading.Lock] = defaultdict(threading.Lock)

    async def write_readings(self, readings: Sequence[Reading]) -> ReadingWriteResult:
        result: ReadingWriteResult = await asyncio.to_thread(
            self._retrying, "readings", write_readings, readings
        )
        return result

    async def write_events(self, events: Sequence[DetectionEvent]) -> int:
        written: int = await asyncio.to_thread(self._retrying, "events", write_events, events)
        return written

    async def write_transmission(self, rows: Sequence[TransmissionRow]) -> None:
        if rows:
            await asyncio.to_thread(self._retrying, "transmission", write_transmission, rows)

    async def write_radio_frames(self, records: Sequence[RadioRecord]) -> int:
        written: int = await asyncio.to_thread(self._retrying, "radio", write_radio_frames, records)
        return written

    def _retrying(
        self,
        kind: str,
        write: Callable[[psycopg.Connection, Sequence[Any]], Result],
        rows: Sequence[Any],
    ) -> Result:
        return _RETRY_WHILE_DATABASE_DOWN(self._write_once, kind, write, rows)

    def _write_once(
        self,
        kind: str,
        write: Callable[[psycopg.Connection, Sequence[Any]], Result],
        rows: Sequence[Any],
    ) -> Result:
        with self._locks[kind]:
            try:
                return write(self._connection(kind), rows)
            except psycopg.OperationalError:
                self._drop(kind)
                raise

    def _connection(self, kind: str) -> psycopg.Connection:
        conn = self._connections.get(kind)
        if conn is None or conn.closed:
            conn = self._connections[kind] = psycopg.connect(self._database_url)
        return conn

    def _drop(self, kind: str) -> None:
        conn = self._connections.pop(kind, None)
        if conn is not None:
            conn.close()

    def close(self) -> None:
        for kind in list(self._connections):
            self._drop(kind)


async def store_readings(
    readings: list[Reading], sink: DatabaseSink, dead_letters: faust.TopicT
) -> None:
    """Write a batch of readings; dead-letter what is refused or already stored from elsewhere."""
    for result in await _write_isolating(readings, sink.write_readings, dead_letters):
        READINGS_STORED.inc(result.inserted)
        for duplicate in result.duplicates:
            rejection = Rejection(
                code=RejectCode.DUPLICATE,
                reason=duplicate.reason,
                usage_id=duplicate.reading.usage_id,
            )
            await dead_letter_row(dead_letters, duplicate.reading, rejection, "sink")


def register_events_sink(
    app: faust.App,
    settings: Settings,
    events: faust.TopicT,
    dead_letters: faust.TopicT,
    sink: DatabaseSink,
) -> None:
    @app.agent(events, name="store-events")
    async def store_events(stream: faust.StreamT) -> None:
        async for batch in batches(stream, settings):
            rows = await parse_batch(batch, DetectionEvent.from_json, dead_letters)
            await _write_isolating(rows, sink.write_events, dead_letters)


def register_radio_sink(
    app: faust.App,
    settings: Settings,
    radio: faust.TopicT,
    dead_letters: faust.TopicT,
    sink: DatabaseSink,
) -> None:
    @app.agent(radio, name="store-radio")
    async def store_radio(stream: faust.StreamT) -> None:
        async for batch in batches(stream, settings):
            rows = await parse_batch(batch, RadioRecord.from_json, dead_letters)
            await _write_isolating(rows, sink.write_radio_frames, dead_letters)


Row = TypeVar("Row", Reading, DetectionEvent, RadioRecord)


def batches(stream: faust.StreamT, settings: Settings) -> AsyncIterator[Sequence[EventT]]:
    """Events by batches; acknowledged (so committed) only after the batch is handled."""
    return cast(faust.Stream, stream).take_events(
        settings.sink_batch_size, within=settings.sink_batch_seconds
    )


async def parse_batch(
    batch: Sequence[EventT], parse: Callable[[bytes], Row], dead_letters: faust.TopicT
) -> list[Row]:
    rows = []
    for event in batch:
        try:
            rows.append(parse(event.value))
        except (ValidationError, TypeError) as error:
            rejection = Rejection(code=RejectCode.PROCESSING_ERROR, reason=f"unreadable: {error}")
            await send_dead_letter(
                dead_letters,
                rejection,
                stage="sink",
                origin=origin_of(event),
                original=original_bytes(event),
            )
    return rows


async def _write_isolating(
    rows: list[Row],
    write: Callable[[list[Row]], Awaitable[Result]],
    dead_letters: faust.TopicT,
) -> list[Result]:
    """Write the batch; if the database refuses its data, split it to dead-letter the culprit.

    Outages (OperationalError) are retried inside `write`; any other database error is
    about the rows themselves, and must not stop the worker nor lose the good rows.
    """
    if not rows:
        return []
    try:
        return [await write(rows)]
    except psycopg.Error as error:
        if len(rows) == 1:
            rejection = Rejection(code=RejectCode.PROCESSING_ERROR, reason=f"database: {error}")
            await dead_letter_row(dead_letters, rows[0], rejection, "sink")
            return []
        half = len(rows) // 2
        first = await _write_isolating(rows[:half], write, dead_letters)
        return first + await _write_isolating(rows[half:], write, dead_letters)
