"""How far the worker's consumer group is behind: per partition of the raw topic, its end,
the group's committed offset and the lag between (`smati lag`), and the processing
horizon: when the first uplink not yet handled was published.

The horizon here is read in one look, from the oldest uplink still waiting in each
partition; the worker learns its own from successive snapshots (models.transmission.
horizon), without reading messages, and exports its distance to the wall clock as
`smati_processing_horizon_lag_seconds`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime

from confluent_kafka import Consumer, TopicPartition

from models.kafka import client_config
from models.settings import Settings
from stream.transmission import TIMEOUT_S, PipelineOffsets

__all__ = ["GroupLag", "PartitionLag", "read_lag"]


@dataclass(frozen=True)
class PartitionLag:
    topic: str
    partition: int
    end: int
    """The offset the next message published will take."""
    committed: int | None
    """The group's committed offset: the next message it will handle (None: none yet)."""

    @property
    def lag(self) -> int:
        """Messages published and not yet handled."""
        return self.end - (self.committed or 0)


@dataclass(frozen=True)
class GroupLag:
    group: str
    partitions: list[PartitionLag]
    at: datetime
    horizon: datetime
    """Everything published before this is handled: `at` when nothing waits."""

    @property
    def horizon_lag_s(self) -> float:
        return (self.at - self.horizon).total_seconds()


def read_lag(settings: Settings) -> GroupLag:
    """The lag of the worker's group on the raw topic, now (blocking; KafkaException if
    Kafka cannot be reached)."""
    offsets = PipelineOffsets(settings)
    snapshot = offsets.snapshot()
    partitions = [
        PartitionLag(offsets.topic, partition, end, snapshot.committed.get(partition))
        for partition, end in sorted(snapshot.ends.items())
    ]
    waiting = [p for p in partitions if p.lag > 0]
    horizon = _first_published(settings, waiting) if waiting else None
    return GroupLag(settings.app_id, partitions, snapshot.at, horizon or snapshot.at)


def _first_published(settings: Settings, waiting: list[PartitionLag]) -> datetime | None:
    """When the oldest message not yet handled was published (Kafka's timestamps), read
    without joining the group: the first message after each committed offset."""
    consumer = Consumer(
        client_config(
            settings.kafka_bootstrap,
            {"group.id": f"{settings.app_id}-lag", "enable.auto.commit": False},
        )
    )
    try:
        consumer.assign([TopicPartition(p.topic, p.partition, p.committed or 0) for p in waiting])
        firsts: dict[int, datetime] = {}
        deadline = time.monotonic() + TIMEOUT_S
        while len(firsts) < len(waiting) and time.monotonic() < deadline:
            message = consumer.poll(0.5)
            if message is None or message.error() is not None:
                continue
            partition = message.partition() or 0
            if partition not in firsts:
                firsts[partition] = datetime.fromtimestamp(message.timestamp()[1] / 1000, UTC)
                consumer.pause([TopicPartition(message.topic() or "", partition)])
        return min(firsts.values(), default=None)
    finally:
        consumer.close()
