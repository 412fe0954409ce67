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
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Sequence
from functools import partial
from typing import Any, TypeVar, cast

import faust
import psycopg
from faust.types import EventT
from tenacity import Retrying, before_sleep_log, retry_if_exception_type, wait_exponential

from models.dead_letter import RejectCode, Rejection
from models.detection import DetectionEvent
from models.radio_health import RadioRecord
from models.reading import Reading
from models.settings import Settings
from storage.worker_state import (
    State,
    StateChange,
    StateTable,
    StoredState,
    read_states,
    read_stored_keys,
    write_states,
)
from storage.writer import ReadingWriteResult, write_events, write_radio_frames, write_readings
from stream.dead_letters import row_dead_letter
from stream.metrics import READINGS_STORED
from stream.outputs import Outputs

log = logging.getLogger(__name__)
Result = TypeVar("Result")
_RETRY_WHILE_DATABASE_DOWN = Retrying(
    retry=retry_if_exception_type(psycopg.OperationalError),
    wait=wait_exponential(multiplier=0.5, max=30),
    before_sleep=before_sleep_log(log, logging.WARNING),
)


def _write_states(
    table: StateTable[State], conn: psycopg.Connection, rows: Sequence[StateChange[State]]
) -> None:
    with conn.transaction(), conn.cursor() as cur:
        write_states(cur, table, rows)


class DatabaseSink:
    """One connection per kind of row, used from a worker thread so the event loop runs on.

    Two tasks may use one kind at once (the uplinks agent and the transmission clock both
    read and write usage states): a lock per kind keeps their transactions apart.
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

    async def write_states(
        self, table: StateTable[State], rows: Sequence[StateChange[State]]
    ) -> None:
        if rows:
            await asyncio.to_thread(self._retrying, table.name, partial(_write_states, table), rows)

    async def read_states(
        self, table: StateTable[Any], keys: Collection[str]
    ) -> dict[str, StoredState]:
        return await self._read(table, partial(read_states, table=table, keys=keys))

    async def read_stored_keys(self, table: StateTable[Any]) -> dict[str, int]:
        return await self._read(table, partial(read_stored_keys, table=table))

    async def _read(self, table: StateTable[Any], query: Callable[..., Result]) -> Result:
        def read(conn: psycopg.Connection, _: Sequence[Any]) -> Result:
            with conn.transaction():
                return query(conn)

        result: Result = await asyncio.to_thread(self._retrying, table.name, read, ())
        return result

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
    readings: list[Reading], sink: DatabaseSink, outputs: Outputs
) -> list[Reading]:
    """Write a batch of readings; dead-letter what is refused or already stored from
    elsewhere. Returns the readings accepted: new, or replayed from the same origin."""
    accepted: list[Reading] = []
    for result in await store_isolating(readings, sink.write_readings, outputs):
        READINGS_STORED.inc(result.inserted)
        accepted += result.accepted
        for duplicate in result.duplicates:
            rejection = Rejection(
                code=RejectCode.DUPLICATE,
                reason=duplicate.reason,
                usage_id=duplicate.reading.usage_id,
            )
            outputs.dead_letter(row_dead_letter(duplicate.reading, rejection, "sink"))
    return accepted


Row = TypeVar("Row", Reading, DetectionEvent, RadioRecord)


def batches(stream: faust.StreamT, settings: Settings) -> AsyncIterator[Sequence[EventT]]:
    """Events by batches; acknowledged (so committed) only after the batch is handled."""
    return cast(faust.Stream, stream).take_events(
        settings.sink_batch_size, within=settings.sink_batch_seconds
    )


async def store_isolating(
    rows: list[Row], write: Callable[[list[Row]], Awaitable[Result]], outputs: Outputs
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
            outputs.dead_letter(row_dead_letter(rows[0], rejection, "sink"))
            return []
        half = len(rows) // 2
        first = await store_isolating(rows[:half], write, outputs)
        return first + await store_isolating(rows[half:], write, outputs)
