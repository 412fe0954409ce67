"""The end of every batch, the uplinks agent's and the transmission clock's alike.

In an order that makes a kill at any point harmless:
1. readings, detection events and radio frames are written to PostgreSQL (upserts on
   natural keys and deterministic ids);
2. stored readings, events and dead letters are published to Kafka, and flushed;
3. the changed states are written to PostgreSQL;
and only then may the batch's offsets be committed. A kill before 3 replays the batch on
the states from before it: the same rows, the same events with the same ids, stored once,
published again (consumers of the topics are at-least-once too). A kill after 3 replays
it on states that have seen it: the rules find nothing new.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from models.detection import DetectionEvent
from models.radio_health import RadioRecord
from models.reading import Reading
from stream.outputs import Outputs
from stream.sink import DatabaseSink, store_isolating, store_readings
from stream.state_cache import StateCache


@dataclass
class BatchOutcome:
    """What a batch found; `commit` stores and publishes it."""

    readings: list[Reading] = field(default_factory=list)
    detections: list[DetectionEvent] = field(default_factory=list)
    radio_frames: list[RadioRecord] = field(default_factory=list)

    async def commit(
        self, sink: DatabaseSink, outputs: Outputs, states: Sequence[StateCache[Any]]
    ) -> None:
        stored = await store_readings(self.readings, sink, outputs)
        await store_isolating(self.detections, sink.write_events, outputs)
        await store_isolating(self.radio_frames, sink.write_radio_frames, outputs)
        for reading in stored:
            outputs.reading(reading)
        for detection in self.detections:
            outputs.detection(detection)
        await outputs.flush()
        for cache in states:
            await cache.write_changes()
