"""The readings agent: checks each reading with its usage's rules, then stores the batch.

One agent, the only consumer of the readings topic: detection state (a table) and the
database write advance together, batch by batch, and the batch is acknowledged only once
both are done. (Two agents on one topic can stall Faust's rebalance: a message delivered
to one agent and dropped from the other's queue is never fully acknowledged.) Faust
flushes what was produced (events, state changelog) before it commits the offsets, so a
kill at any point replays the batch: the same readings are stored once, and the rules,
fed readings they have already seen, find nothing new.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import faust

from models.anomaly import AnomalyConfig
from models.dead_letter import RejectCode, Rejection
from models.detection import DetectionEvent
from models.reading import Reading
from models.rules import check_reading
from models.settings import Settings
from models.transmission import TransmissionPolicy
from stream.dead_letters import dead_letter_row
from stream.detections import publish_detections, store_transmission
from stream.registry_cache import RegistryCache
from stream.sink import DatabaseSink, batches, parse_batch, store_readings
from stream.usage_states import StateBatch

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
    rules = Rules(settings.transmission_policy, settings.anomaly_config)

    @app.agent(readings, name="readings")
    async def check_and_store(stream: faust.StreamT) -> None:
        await registry.ready.wait()
        async for batch in batches(stream, settings):
            rows = await parse_batch(batch, Reading.from_json, dead_letters)
            touched = StateBatch(states)
            found: list[DetectionEvent] = []
            for reading in rows:
                try:
                    found += _detect_one(reading, touched, registry, rules)
                except Exception as error:  # never let one reading stop the worker
                    log.exception("detection on %s failed", reading.origin)
                    rejection = Rejection(code=RejectCode.PROCESSING_ERROR, reason=repr(error))
                    await dead_letter_row(dead_letters, reading, rejection, "detect")
            changed = touched.write_back()
            publish_detections(events, found)
            await store_readings(rows, sink, dead_letters)
            await store_transmission(sink, registry.usages, changed)


@dataclass(frozen=True)
class Rules:
    """The configuration of the rules, built once from the settings."""

    transmission: TransmissionPolicy
    anomaly: AnomalyConfig


def _detect_one(
    reading: Reading, states: StateBatch, registry: RegistryCache, rules: Rules
) -> list[DetectionEvent]:
    ref = registry.usages.get(reading.usage_id)
    if ref is None:  # removed from the registry since it was decoded: stored, not checked
        log.info("usage %s is no longer registered; not checked", reading.usage_id)
        return []
    state, found = check_reading(
        states.get(reading.usage_id),
        ref,
        reading,
        transmission_policy=rules.transmission,
        anomaly_config=rules.anomaly,
    )
    states.put(reading.usage_id, state)
    return found
