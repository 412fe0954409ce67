"""The end of every batch, the uplinks agent's and the transmission clock's alike.

In an order that makes a kill at any point harmless:
1. readings, detection events and radio frames are written to PostgreSQL (upserts on
   natural keys and deterministic ids);
2. stored readings, events and dead letters are published to Kafka, and flushed;
3. the states the batch changed are written to PostgreSQL;
4. only then are the batch's Kafka messages acknowledged, so their offsets may be
   committed. A kill before 3 replays the batch on the states from before it: the same
   rows, the same events with the same ids, stored once, published again (the consumers
   of those topics are at-least-once too). A kill after 3 replays it on states that have
   seen it: the rules find nothing new.

Batches are committed one after the other, in the order they were checked, each while
the next one is being checked: the database and Kafka work of one batch overlaps the
decoding and rules of the next (`CommitChain`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from faust.types import EventT

from models.detection import DetectionEvent
from models.radio_health import RadioRecord
from models.reading import Reading
from storage.worker_state import StateChange, StateTable
from stream.outputs import Outputs
from stream.sink import DatabaseSink, store_isolating, store_readings
from stream.state_cache import StateCache

log = logging.getLogger(__name__)


@dataclass
class BatchOutcome:
    """What a batch found, and the states it changed (taken from their caches)."""

    readings: list[Reading] = field(default_factory=list)
    detections: list[DetectionEvent] = field(default_factory=list)
    radio_frames: list[RadioRecord] = field(default_factory=list)
    states: list[tuple[StateTable[Any], list[StateChange[Any]]]] = field(default_factory=list)
    messages: Sequence[EventT] = ()
    """The Kafka messages the batch came from, acknowledged once it is committed."""

    @property
    def empty(self) -> bool:
        """Nothing to store, publish or acknowledge (a clock slice where nothing changed)."""
        rows = (self.readings, self.detections, self.radio_frames, self.messages)
        return not any(rows) and not any(changes for _, changes in self.states)

    def take_changes(self, *caches: StateCache[Any]) -> None:
        self.states += [(cache.table, cache.take_changes()) for cache in caches]

    async def commit(self, sink: DatabaseSink, outputs: Outputs) -> None:
        stored = await store_readings(self.readings, sink, outputs)
        await store_isolating(self.detections, sink.write_events, outputs)
        await store_isolating(self.radio_frames, sink.write_radio_frames, outputs)
        for reading in stored:
            outputs.reading(reading)
        for detection in self.detections:
            outputs.detection(detection)
        await outputs.flush()
        for table, rows in self.states:
            await sink.write_states(table, rows)
        for event in self.messages:
            event.ack()


class CommitChain:
    """Commits batches in order, at most one at a time, while the next one is checked.

    Submit under the states' lock, right after checking, so that the commits follow the
    order of the checks. A commit that fails after the sink's retries (Kafka refusing
    messages, a bug) stops the worker through `crash`: its batch is not acknowledged, so
    a restarted worker replays it.
    """

    def __init__(
        self,
        sink: DatabaseSink,
        outputs: Outputs,
        crash: Callable[[BaseException], Awaitable[None]],
    ) -> None:
        self._sink, self._outputs, self._crash = sink, outputs, crash
        self._running: asyncio.Task[None] | None = None

    async def submit(self, outcome: BatchOutcome) -> None:
        """Wait for the commit under way, then start this one and return."""
        if outcome.empty:
            return
        await self.idle()
        for event in outcome.messages:  # held until committed: see `BatchOutcome.commit`
            event.message.incref()
        self._running = asyncio.create_task(self._commit(outcome))

    async def idle(self) -> None:
        """Wait until every batch submitted is committed."""
        if self._running is not None:
            await asyncio.shield(self._running)

    async def _commit(self, outcome: BatchOutcome) -> None:
        try:
            await outcome.commit(self._sink, self._outputs)
        except Exception as error:
            log.exception("a batch could not be committed; stopping the worker")
            await self._crash(error)
