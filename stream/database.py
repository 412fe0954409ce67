"""The worker's database: batches of rows written idempotently, per-key states read and
written.

At-least-once from Kafka plus upserts on natural keys: a replay after a restart writes
nothing twice. A reading sent twice by a device (same usage and time, another origin)
is not written again and goes to the dead-letter topic. An outage is waited out
(stream.outage): the batch is not acknowledged until it is written, so nothing is lost.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Collection, Sequence
from functools import partial
from typing import Any, TypeVar

import psycopg
from psycopg_pool import ConnectionPool, PoolTimeout

from models.alarms import AlarmChange
from models.dead_letter import DeadLetter, RejectCode, Rejection
from models.detection import DetectionEvent
from models.radio_health import RadioRecord
from models.reading import Reading
from storage.alarm_writer import write_alarm_changes
from storage.worker_state import (
    State,
    StateChange,
    StateTable,
    StoredState,
    read_states,
    read_stored_keys,
    write_states,
)
from storage.writer import OutputTable, ReadingWriteResult, write_readings, write_rows
from stream.dead_letters import row_dead_letter
from stream.metrics import READINGS_STORED
from stream.outage import Outage

log = logging.getLogger(__name__)
Result = TypeVar("Result")
Refuse = Callable[[DeadLetter], None]
OUTAGE = (psycopg.OperationalError, PoolTimeout)
"""What an unreachable server raises: waited out, never blamed on the rows."""


class WorkerDatabase:
    """A pool of connections, each used from a worker thread so the event loop runs on;
    the uplinks agent and the transmission clock write at once on connections of their
    own."""

    def __init__(self, database_url: str, outage: Outage, max_connections: int = 8) -> None:
        self._outage = outage
        self._pool = ConnectionPool(
            database_url,
            min_size=1,
            max_size=max_connections,
            open=True,  # in the background: a worker may start before its database
            check=ConnectionPool.check_connection,  # a connection broken by a restart
            timeout=3,  # then the outage is reported, and waited out
            name="worker",
        )
        # Each failed attempt of the pool would log a line: the outage says it once.
        logging.getLogger("psycopg.pool").setLevel(logging.ERROR)

    async def write_readings(self, readings: Sequence[Reading]) -> ReadingWriteResult:
        return await self._run(partial(write_readings, readings=readings))

    async def write_rows(self, table: OutputTable[Any], rows: Sequence[Any]) -> int:
        return await self._run(partial(write_rows, table=table, rows=rows))

    async def write_alarm_changes(self, changes: Sequence[AlarmChange]) -> set[str]:
        """The ids of the alarms a person cleared, which `changes` left alone."""
        if not changes:
            return set()
        return await self._run(partial(write_alarm_changes, changes=changes))

    async def write_states(
        self, table: StateTable[State], changes: Sequence[StateChange[State]]
    ) -> None:
        if changes:
            await self._run(partial(_write_states, table=table, changes=changes))

    async def read_states(
        self, table: StateTable[Any], keys: Collection[str]
    ) -> dict[str, StoredState]:
        return await self._run(partial(read_states, table=table, keys=keys))

    async def read_stored_keys(self, table: StateTable[Any]) -> dict[str, int]:
        return await self._run(partial(read_stored_keys, table=table))

    async def _run(self, query: Callable[[psycopg.Connection], Result]) -> Result:
        def once() -> Result:
            with self._pool.connection() as conn:
                return query(conn)

        async def attempt() -> Result:
            return await asyncio.to_thread(once)

        return await self._outage.retrying("database", attempt, OUTAGE)

    def close(self) -> None:
        self._pool.close()


def _write_states(
    conn: psycopg.Connection, table: StateTable[State], changes: Sequence[StateChange[State]]
) -> None:
    with conn.transaction(), conn.cursor() as cur:
        write_states(cur, table, changes)


async def store_readings(
    readings: list[Reading], database: WorkerDatabase, refuse: Refuse
) -> list[Reading]:
    """Write a batch of readings; dead-letter what is refused or already stored from
    elsewhere. Returns the readings accepted: new, or replayed from the same origin."""
    accepted: list[Reading] = []
    for result in await store_isolating(readings, database.write_readings, refuse):
        READINGS_STORED.inc(result.inserted)
        accepted += result.accepted
        for duplicate in result.duplicates:
            rejection = Rejection(
                code=RejectCode.DUPLICATE,
                reason=duplicate.reason,
                usage_id=duplicate.reading.usage_id,
            )
            refuse(row_dead_letter(duplicate.reading, rejection, "sink"))
    return accepted


Row = TypeVar("Row", Reading, DetectionEvent, RadioRecord)


async def store_isolating(
    rows: list[Row], write: Callable[[list[Row]], Awaitable[Result]], refuse: Refuse
) -> list[Result]:
    """Write the batch; if the database refuses its data, split it to dead-letter the culprit.

    Outages are waited out inside `write`; any other database error is about the rows
    themselves, and must not stop the worker nor lose the good rows.
    """
    if not rows:
        return []
    try:
        return [await write(rows)]
    except psycopg.Error as error:
        if len(rows) == 1:
            rejection = Rejection(code=RejectCode.PROCESSING_ERROR, reason=f"database: {error}")
            refuse(row_dead_letter(rows[0], rejection, "sink"))
            return []
        half = len(rows) // 2
        first = await store_isolating(rows[:half], write, refuse)
        return first + await store_isolating(rows[half:], write, refuse)
