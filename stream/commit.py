"""The end of every batch, the uplinks agent's and the transmission clock's alike.

Three steps, in an order that makes a kill at any point harmless:
1. store: readings, detection events and radio frames are written to PostgreSQL (upserts
   on natural keys and deterministic ids);
2. publish: stored readings, events and dead letters are published to Kafka, and flushed;
3. save: the states the batch changed are written to PostgreSQL, and only then are the
   batch's Kafka messages acknowledged, so their offsets may be committed.
A kill before 3 replays the batch on the states from before it: the same rows, the same
events with the same ids, stored once, published again (the consumers of those topics are
at-least-once too). A kill after 3 replays it on states that have seen it: the rules find
nothing new.

Batches are committed in the order they were checked, and each step of a batch follows
the same step of the batch before (`CommitChain`): a batch is stored while the one before
is published and the one before that saved, and all of it while the next is checked.
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
from stream.metrics import BATCH_SECONDS
from stream.outputs import Outputs
from stream.sink import DatabaseSink, store_isolating, store_readings
from stream.state_cache import StateCache

log = logging.getLogger(__name__)
Step = Callable[[], Awaitable[None]]


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

    def steps(self, sink: DatabaseSink, outputs: Outputs) -> tuple[Step, Step, Step]:
        """Store, publish, save (see above); within a step, writes to different tables run
        at once (the sink has a connection per kind of row)."""
        stored: list[Reading] = []

        async def store() -> None:
            stored[:], _, _ = await asyncio.gather(
                store_readings(self.readings, sink, outputs),
                store_isolating(self.detections, sink.write_events, outputs),
                store_isolating(self.radio_frames, sink.write_radio_frames, outputs),
            )

        async def publish() -> None:
            for reading in stored:
                outputs.reading(reading)
            for detection in self.detections:
                outputs.detection(detection)
            await outputs.flush()

        async def save() -> None:
            await asyncio.gather(*(sink.write_states(table, rows) for table, rows in self.states))
            for event in self.messages:
                event.ack()

        return store, publish, save


class CommitChain:
    """Commits batches in order, up to `DEPTH` at a time, while the next one is checked.

    Submit under the states' lock, right after checking, so that the commits follow the
    order of the checks. A commit that fails after the sink's retries (Kafka refusing
    messages, a bug) stops the worker through `crash`; its batch and every later one are
    not acknowledged, so a restarted worker replays them.
    """

    DEPTH = 3
    """Batches committing at once: one per step."""

    def __init__(
        self,
        sink: DatabaseSink,
        outputs: Outputs,
        crash: Callable[[BaseException], Awaitable[None]],
    ) -> None:
        self._sink, self._outputs, self._crash = sink, outputs, crash
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
        for event in outcome.messages:  # held until committed: see `BatchOutcome.steps`
            event.message.incref()
        steps = outcome.steps(self._sink, self._outputs)
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
            log.exception("a batch could not be committed; stopping the worker")
            await self._crash(error)
        finally:
            for finished in done:
                finished.set()
