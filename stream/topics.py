"""The Kafka topics of the pipeline, created before any process uses them."""

from __future__ import annotations

import logging
import time
from datetime import datetime
from typing import NamedTuple

from confluent_kafka import Consumer, KafkaError, KafkaException, TopicPartition
from confluent_kafka.admin import AdminClient
from confluent_kafka.cimpl import NewTopic

from models.kafka import client_config
from models.settings import Settings

log = logging.getLogger(__name__)

TOPICS = ("raw", "readings", "events", "alarms", "dead-letter")
"""The worker consumes `raw`; it publishes the others, for alerting and other consumers."""


def ensure_topics(settings: Settings, timeout_s: float = 30.0) -> list[str]:
    """Create the missing pipeline topics; returns the names created."""
    admin = AdminClient(client_config(settings.kafka_bootstrap))
    existing = set(admin.list_topics(timeout=timeout_s).topics)
    wanted = [
        NewTopic(settings.topic(name), num_partitions=settings.topic_partitions) for name in TOPICS
    ]
    missing = [topic for topic in wanted if topic.topic not in existing]
    if not missing:
        return []
    futures = admin.create_topics(missing, operation_timeout=timeout_s)
    for future in futures.values():
        try:
            future.result(timeout=timeout_s)
        except KafkaException as error:
            if not already_exists(error):  # else a concurrent creator won the race: fine
                raise
    names = [topic.topic for topic in missing]
    log.info("created topics %s", ", ".join(names))
    return names


def already_exists(error: KafkaException) -> bool:
    """Whether a topic creation failed because the topic exists (by Kafka's error code)."""
    cause = error.args[0] if error.args else None
    return isinstance(cause, KafkaError) and cause.code() == KafkaError.TOPIC_ALREADY_EXISTS


class Record(NamedTuple):
    partition: int
    key: bytes
    value: bytes
    timestamp_ms: int
    """When the producer created it (Kafka's CreateTime)."""


def read_topic(bootstrap: str, topic: str, timeout_s: float = 15.0) -> list[bytes]:
    """Every value of `topic` from its beginning to its current end (for summaries and tests)."""
    return [record.value for record in read_records(bootstrap, topic, timeout_s)]


def read_records(
    bootstrap: str, topic: str, timeout_s: float = 15.0, since: datetime | None = None
) -> list[Record]:
    """Every record of `topic`, from its beginning (or the first at or after `since`, by
    Kafka's timestamps) to its end."""
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": "smati-topic-reader",
            "enable.auto.commit": False,
            "enable.partition.eof": True,
            "log_level": 0,  # a broker that cannot be reached is this function's error
        }
    )
    try:
        partitions = consumer.list_topics(topic, timeout=timeout_s).topics[topic].partitions
        starts = [TopicPartition(topic, p, 0) for p in partitions]
        if since is not None:
            since_ms = int(since.timestamp() * 1000)
            wanted = [TopicPartition(topic, p, since_ms) for p in partitions]
            # Offset -1: no record at or after `since` in that partition.
            starts = [t for t in consumer.offsets_for_times(wanted, timeout_s) if t.offset >= 0]
        consumer.assign(starts)
        records: list[Record] = []
        at_end: set[int] = set()
        deadline = time.monotonic() + timeout_s
        while len(at_end) < len(starts) and time.monotonic() < deadline:
            message = consumer.poll(0.5)
            if message is None:
                continue
            error = message.error()
            if error is None:
                records.append(
                    Record(
                        message.partition() or 0,
                        message.key() or b"",
                        message.value() or b"",
                        message.timestamp()[1],
                    )
                )
            elif error.code() == KafkaError._PARTITION_EOF:
                at_end.add(message.partition() or 0)
        return records
    finally:
        consumer.close()
