"""The readings agent: checks each reading with its usage's rules, then stores the batch.

One agent, the only consumer of the readings topic: detection state (a table) and the
database write advance together, batch by batch, and the batch is acknowledged only once
both are done. (Two agents on one topic can stall Faust's rebalance: a message delivered
to one agent and dropped from the other's queue is never fully acknowledged.)
"""

from __future__ import annotations

import logging

import faust

from models.dead_letter import RejectCode, Rejection
from models.reading import Reading
from models.rules import UsageState, check_reading
from models.settings import Settings
from stream.dead_letters import dead_letter_row
from stream.metrics import DETECTIONS
from stream.registry_cache import RegistryCache
from stream.sink import DatabaseSink, batches, parse_batch, store_readings

log = logging.getLogger(__name__)


def register_readings_agent(
    app: faust.App,
    settings: Settings,
    readings: faust.TopicT,
    events: faust.TopicT,
    dead_letters: faust.TopicT,
    states: faust.types.TableT,
    registry: RegistryCache,
    sink: DatabaseSink,
) -> None:
    @app.agent(readings, name="readings")
    async def check_and_store(stream: faust.StreamT) -> None:
        await registry.ready.wait()
        async for batch in batches(stream, settings):
            rows = await parse_batch(batch, Reading.from_json, dead_letters)
            for reading in rows:
                try:
                    await _detect_one(reading, events, states, registry)
                except Exception as error:  # never let one reading stop the worker
                    log.exception("detection on %s failed", reading.origin)
                    rejection = Rejection(code=RejectCode.PROCESSING_ERROR, reason=repr(error))
                    await dead_letter_row(dead_letters, reading, rejection, "detect")
            await store_readings(rows, sink, dead_letters)


async def _detect_one(
    reading: Reading, events: faust.TopicT, states: faust.types.TableT, registry: RegistryCache
) -> None:
    ref = registry.usages.get(reading.usage_id)
    if ref is None:  # removed from the registry since it was decoded: stored, not checked
        log.info("usage %s is no longer registered; not checked", reading.usage_id)
        return
    key = reading.usage_id.encode()
    stored = states.get(key)
    state = UsageState.model_validate(stored) if stored else UsageState()
    new_state, found = check_reading(state, ref.usage, reading)
    if new_state != state:
        states[key] = new_state.model_dump(mode="json")
    for detection in found:
        DETECTIONS.labels(kind=detection.kind).inc()
        await events.send(key=detection.usage_id.encode(), value=detection.to_json())
