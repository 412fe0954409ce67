"""The detection agent: runs the usage's rules on each reading, keeps its state in a table."""

from __future__ import annotations

import logging

import faust

from models.reading import Reading
from models.rules import UsageState, check_reading
from stream.dead_letters import handle_or_dead_letter
from stream.metrics import DETECTIONS
from stream.registry_cache import RegistryCache

log = logging.getLogger(__name__)


def register_detect_agent(
    app: faust.App,
    readings: faust.TopicT,
    events: faust.TopicT,
    dead_letters: faust.TopicT,
    states: faust.types.TableT,
    registry: RegistryCache,
) -> None:
    @app.agent(readings, name="detect")
    async def detect(stream: faust.StreamT) -> None:
        await registry.ready.wait()

        async def handle(original: bytes, _: str) -> None:
            await _detect_one(Reading.from_json(original), events, states, registry)

        async for event in stream.events():
            await handle_or_dead_letter(event, handle, dead_letters, "detect")


async def _detect_one(
    reading: Reading, events: faust.TopicT, states: faust.types.TableT, registry: RegistryCache
) -> None:
    ref = registry.usages.get(reading.usage_id)
    if ref is None:  # removed from the registry since it was decoded: stored, not checked
        log.info("usage %s is no longer registered; not checked", reading.usage_id)
        return
    stored = states.get(reading.usage_id)
    state = UsageState.model_validate(stored) if stored else UsageState()
    new_state, found = check_reading(state, ref.usage, reading)
    if new_state != state:
        states[reading.usage_id] = new_state.model_dump(mode="json")
    for detection in found:
        DETECTIONS.labels(kind=detection.kind).inc()
        await events.send(key=detection.usage_id.encode(), value=detection.to_json())
