"""Pipeline topics created once, a topic that already exists told apart by Kafka's error code."""

from __future__ import annotations

import uuid

import pytest
from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient
from confluent_kafka.cimpl import NewTopic

from models.settings import Settings
from services import ApacheKafka
from stream.topics import TOPICS, already_exists, ensure_topics

pytestmark = pytest.mark.integration


def _creation_error(admin: AdminClient, topic: NewTopic) -> KafkaException:
    with pytest.raises(KafkaException) as raised:
        admin.create_topics([topic])[topic.topic].result(30)
    return raised.value


def test_ensure_topics_creates_the_missing_ones_once(kafka_broker: ApacheKafka) -> None:
    settings = Settings(kafka_bootstrap=kafka_broker.bootstrap, topic_prefix=uuid.uuid4().hex)
    created = ensure_topics(settings)
    assert created == [settings.topic(name) for name in TOPICS]
    assert ensure_topics(settings) == []


def test_already_exists_is_recognised_by_its_code(kafka_broker: ApacheKafka) -> None:
    admin = AdminClient({"bootstrap.servers": kafka_broker.bootstrap})
    name = f"exists-{uuid.uuid4().hex}"
    admin.create_topics([NewTopic(name, num_partitions=1)])[name].result(30)

    assert already_exists(_creation_error(admin, NewTopic(name, num_partitions=1)))
    # Another refusal of the broker is not taken for "already exists".
    invalid = NewTopic(f"bad-{uuid.uuid4().hex}", num_partitions=1, replication_factor=3)
    assert not already_exists(_creation_error(admin, invalid))
