"""The transmission clock: silent usages turn orange, then red, and their gaps open.

A timer, because a silent device sends nothing that could trigger a check. It judges
silence at the processing horizon (models.transmission.horizon), learnt from the consumer
group's offsets, so a worker catching up after a restart does not take its usages for
silent. Each worker looks only at the usages of the readings partitions it owns.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from typing import Any, cast

import faust
from aiokafka.partitioner import murmur2
from confluent_kafka import Consumer, TopicPartition

from models.detection import DetectionEvent
from models.rules import check_silence
from models.settings import Settings
from models.transmission import OffsetSnapshot, ProcessingHorizon, TransmissionStatus
from stream.detections import publish_detections, store_transmission
from stream.metrics import HORIZON_LAG, USAGES_BY_STATUS
from stream.registry_cache import RegistryCache
from stream.sink import DatabaseSink
from stream.usage_states import StateBatch

log = logging.getLogger(__name__)


class PipelineOffsets:
    """End and committed offsets of the raw and readings topics, for the worker's group."""

    def __init__(self, settings: Settings) -> None:
        self._topics = (settings.topic("raw"), settings.topic("readings"))
        self._consumer = Consumer(  # never subscribes: it only reads offsets
            {
                "bootstrap.servers": settings.kafka_bootstrap,
                "group.id": settings.app_id,
                "enable.auto.commit": False,
            }
        )
        self._partitions: dict[str, list[TopicPartition]] = {}

    def snapshot(self) -> OffsetSnapshot:
        """Blocking; stage by stage, ends before committed offsets (see OffsetSnapshot)."""
        at = datetime.now(UTC)
        ends, committed = [], []
        for topic in self._topics:
            partitions = self.partitions(topic)
            ends.append(
                {tp.partition: self._consumer.get_watermark_offsets(tp, 10)[1] for tp in partitions}
            )
            committed.append(
                {
                    tp.partition: tp.offset
                    for tp in self._consumer.committed(partitions, timeout=10)
                    if tp.offset >= 0
                }
            )
        return OffsetSnapshot(at=at, ends=ends, committed=committed)

    def partitions(self, topic: str) -> list[TopicPartition]:
        if topic not in self._partitions:
            metadata = self._consumer.list_topics(topic, timeout=10).topics[topic]
            self._partitions[topic] = [TopicPartition(topic, p) for p in metadata.partitions]
        return self._partitions[topic]


class Placement:
    """Which readings partition a usage's readings (and state) go to: Kafka's own hash."""

    def __init__(self, offsets: PipelineOffsets, topic: str) -> None:
        self._offsets, self._topic = offsets, topic
        self._known: dict[str, int] = {}

    def partition(self, usage_id: str) -> int:
        partition = self._known.get(usage_id)
        if partition is None:
            count = len(self._offsets.partitions(self._topic))  # metadata read once, cached
            partition = (murmur2(usage_id.encode()) & 0x7FFFFFFF) % count
            self._known[usage_id] = partition
        return partition


def register_transmission_clock(
    app: faust.App,
    settings: Settings,
    events: faust.TopicT,
    states: faust.types.TableT,
    registry: RegistryCache,
    sink: DatabaseSink,
) -> None:
    policy = settings.transmission_policy
    readings_topic = settings.topic("readings")
    horizon = ProcessingHorizon()
    offsets = PipelineOffsets(settings)
    placement = Placement(offsets, readings_topic)

    def ready() -> bool:
        recovered = cast(Any, app.tables).recovery.completed.is_set()
        return registry.ready.is_set() and recovered and not app.rebalancing

    interval = settings.transmission_check_s

    @app.timer(interval=interval)
    async def watch_silence() -> None:
        try:
            await look_at_silent_usages()
        except Exception:  # Kafka or the database unreachable: the next tick tries again
            log.exception("transmission check failed; trying again in %s s", interval)

    async def look_at_silent_usages() -> None:
        if not ready():
            return
        now = horizon.observe(await asyncio.to_thread(offsets.snapshot))
        if now is None or not ready():
            return
        HORIZON_LAG.set((datetime.now(UTC) - now).total_seconds())
        owned = {
            tp.partition for tp in app.assignor.assigned_actives() if tp.topic == readings_topic
        }
        touched = StateBatch(states)
        found: list[DetectionEvent] = []
        statuses = dict.fromkeys(TransmissionStatus, 0)
        for usage_id, ref in registry.usages.items():
            if placement.partition(usage_id) not in owned:
                continue
            state, events_of_usage = check_silence(touched.get(usage_id), ref, now, policy)
            touched.put(usage_id, state)
            found += events_of_usage
            statuses[state.transmission.status] += 1
        changed = touched.write_back()
        for status, count in statuses.items():
            USAGES_BY_STATUS.labels(status=status).set(count)
        publish_detections(events, found)
        await store_transmission(sink, registry.usages, changed)
