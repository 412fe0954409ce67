"""The worker's reading of the raw topic's offsets (its processing horizon), on a real
Apache Kafka of its own, restarted."""

from __future__ import annotations

import pytest
from confluent_kafka import KafkaException

from models.settings import Settings
from models.transmission import OffsetSnapshot
from services import ApacheKafka, wait_until
from stream.topics import ensure_topics
from stream.transmission import PipelineOffsets

pytestmark = pytest.mark.integration


def test_offsets_are_read_again_once_a_restarted_broker_answers() -> None:
    """The worker's admin client failed every request after a broker restart, so its
    silence checks stopped until the worker itself was restarted."""
    with ApacheKafka() as kafka:
        settings = Settings.model_validate(
            {"kafka_bootstrap": kafka.bootstrap, "topic_prefix": "restarted"}
        )
        ensure_topics(settings)
        offsets = PipelineOffsets(settings)

        def snapshot() -> OffsetSnapshot | None:
            try:
                return offsets.snapshot()
            except KafkaException:  # the worker's clock skips such a tick
                return None

        empty = {partition: 0 for partition in range(settings.topic_partitions)}
        before = wait_until(snapshot, timeout=30, what="the new topic's offsets", interval=0.2)
        assert before.ends == empty
        kafka.restart()
        after = wait_until(snapshot, timeout=90, what="offsets after the restart", interval=1)
        assert after.ends == empty
