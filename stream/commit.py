"""The commit: the end of every batch, the uplinks agent's and the transmission clock's.

Three steps, in an order that makes a kill at any point harmless:
1. store: readings and the rows of the other output tables (detection events, radio
   frames: storage.writer; alarm changes: storage.alarm_writer) are written to PostgreSQL, each
   table on a connection of its own (upserts on natural keys and deterministic ids);
2. publish: stored readings, events, alarm changes and dead letters are published to
   Kafka, and flushed;
3. save: the states the batch changed are written to PostgreSQL, and only then are the
   batch's Kafka messages acknowledged (Faust's manual `Event.ack()`), so that Faust may
   commit their offsets.
A kill before 3 replays the batch on the states from before it: the same rows, the same
events with the same ids, stored once, published again (the consumers of those topics are
at-least-once too). A kill after 3 replays it on states that have seen it: the rules find
nothing new. An outage of the database or Kafka holds the step until it is over
(stream.outage).

Batches are committed in the order they were checked, and each step of a batch follows
the same step of the batch before (`CommitChain`): a batch is stored while the one before
is published and the one before that saved, and all of it while the next is checked.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any, TypeVar, cast

from faust.types import EventT

from models.alarms import AlarmChange
from models.dead_letter import DeadLetter
from models.detection import DetectionEvent
from models.errors import SmatiError
from models.reading import Reading
from storage.worker_state import StateChange, StateTable
from storage.writer import EVENTS, OutputTable
from stream.database import WorkerDatabase, store_isolating, store_readings
from stream.dead_letters import note_refused
from stream.metrics import BATCH_SECONDS
from stream.outputs import Outputs
from stream.state_cache import StateCache

log = logging.getLogger(__name__)
Step = Callable[[], Awaitable[None]]
Row = TypeVar("Row")
ClearedByHand = Callable[[set[str]], None]
"""Told the ids of the alarms a person cleared, which a batch's changes left alone."""


@dataclass
class BatchOutcome:
    """What a batch found, and the states it changed (taken from their caches)."""

    readings: list[Reading] = field(default_factory=list)
    rows: dict[OutputTable[Any], list[Any]] = field(default_factory=dict)
    """The rows of every other output table (storage.writer), by table."""
    dead_letters: list[DeadLetter] = field(default_factory=list)
    alarms: list[AlarmChange] = field(default_factory=list)
    states: list[tuple[StateTable[Any], list[StateChange[Any]]]] = field(default_factory=list)
    messages: Sequence[EventT[bytes]] = ()
    """The Kafka messages the batch came from, acknowledged once it is committed."""

    @property
    def empty(self) -> bool:
        """Nothing to store, publish or acknowledge (a clock slice where nothing changed)."""
        found = (self.readings, *self.rows.values(), self.dead_letters, self.alarms, self.messages)
        return not any(found) and not any(changes for _, changes in self.states)

    @property
    def detections(self) -> list[DetectionEvent]:
        return self.rows.get(EVENTS, [])

    def store(self, table: OutputTable[Row], rows: Sequence[Row]) -> None:
        """Rows to store in `table` with the batch."""
        self.rows.setdefault(table, []).extend(rows)

    def refuse(self, letter: DeadLetter) -> None:
        """A dead letter, published with the batch."""
        note_refused(letter)
        self.dead_letters.append(letter)

    def take_changes(self, *caches: StateCache[Any]) -> None:
        self.states += [(cache.table, cache.take_changes()) for cache in caches]

    def steps(
        self, database: WorkerDatabase, outputs: Outputs, cleared_by_hand: ClearedByHand
    ) -> tuple[Step, Step, Step]:
        """Store, publish, save (see above); within a step, writes to different tables run
        at once, each on a connection of its own. An alarm change a person's clear left
        alone is not published."""
        stored: list[Reading] = []
        alarms: list[AlarmChange] = []

        async def store() -> None:
            readings, left_alone, *_ = await asyncio.gather(
                store_readings(self.readings, database, self.refuse),
                database.write_alarm_changes(self.alarms),
                *(
                    store_isolating(rows, partial(database.write_rows, table), self.refuse)
                    for table, rows in self.rows.items()
                ),
            )
            stored[:] = cast(list[Reading], readings)
            left_alone = cast(set[str], left_alone)
            alarms[:] = [c for c in self.alarms if c.alarm.id not in left_alone]
            if left_alone:
                cleared_by_hand(left_alone)

        async def publish() -> None:
            await outputs.publish(stored, self.detections, self.dead_letters, alarms)

        async def save() -> None:
            await asyncio.gather(*(database.write_states(t, c) for t, c in self.states))
            for event in self.messages:
                event.ack()

        return store, publish, save


class CommitChain:
    """Commits batches in order, up to `DEPTH` at a time, while the next one is checked.

    Submit under the worker's lock, right after checking, so that the commits follow the
    order of the checks. A commit that fails for another reason than an outage (Kafka
    refusing messages, a bug) stops the worker through `crash`; its batch and every later
    one are not acknowledged, so a restarted worker replays them.
    """

    DEPTH = 3
    """Batches committing at once: one per step."""

    def __init__(
        self,
        database: WorkerDatabase,
        outputs: Outputs,
        crash: Callable[[BaseException], Awaitable[None]],
        cleared_by_hand: ClearedByHand = lambda alarm_ids: None,
    ) -> None:
        self._database, self._outputs, self._crash = database, outputs, crash
        self._cleared_by_hand = cleared_by_hand
        self._running: list[asyncio.Task[None]] = []
        self._steps_done: list[asyncio.Event] = []
        """Per step, set once the last batch submitted has finished it (or failed)."""
        self._failed = False

    async def submit(self, outcome: BatchOutcome) -> None:
        """Wait until fewer than `DEPTH` batches are committing, start this one, return."""
        if outcome.empty:
            return
        with BATCH_SECONDS.labels(step="wait").time():
            while len(self._running) >= self.DEPTH:
                await asyncio.wait(self._running, return_when=asyncio.FIRST_COMPLETED)
                self._running = [task for task in self._running if not task.done()]
        steps = outcome.steps(self._database, self._outputs, self._cleared_by_hand)
        after, self._steps_done = self._steps_done, [asyncio.Event() for _ in steps]
        commit = self._commit(steps, after, self._steps_done)
        self._running.append(asyncio.create_task(commit))

    async def idle(self) -> None:
        """Wait until every batch submitted is committed."""
        while self._running:
            await asyncio.shield(asyncio.gather(*self._running))
            self._running = [task for task in self._running if not task.done()]

    async def _commit(
        self, steps: Sequence[Step], after: Sequence[asyncio.Event], done: Sequence[asyncio.Event]
    ) -> None:
        try:
            with BATCH_SECONDS.labels(step="commit").time():
                for n, step in enumerate(steps):
                    if after:
                        await after[n].wait()
                    if self._failed:  # an earlier batch failed: nothing after it is committed
                        return
                    await step()
                    done[n].set()
        except Exception as error:
            self._failed = True
            if isinstance(error, SmatiError):  # expected (Kafka refused messages): one line
                log.error("a batch could not be committed (%s); stopping the worker", error)
            else:
                log.exception("a batch could not be committed; stopping the worker")
            await self._crash(error)
        finally:
            for finished in done:
                finished.set()
