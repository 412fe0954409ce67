"""`smati lag` on a real Apache Kafka: a consumer group's offsets, set as a worker's would
be, read back per partition, with the processing horizon."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner, Result
from confluent_kafka import Consumer, Producer, TopicPartition

from models.settings import Settings
from services import ApacheKafka
from smati.cli import main
from stream.topics import ensure_topics

pytestmark = pytest.mark.integration
T0 = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


def smati(settings: Settings, *args: str) -> Result:
    env = {
        "SMATI_KAFKA_BOOTSTRAP": settings.kafka_bootstrap,
        "SMATI_TOPIC_PREFIX": settings.topic_prefix,
        "SMATI_APP_ID": settings.app_id,
    }
    return CliRunner().invoke(main, list(args), env=env)


def commit(settings: Settings, offsets: dict[int, int]) -> None:
    """Commit the worker group's offsets on the raw topic, as a worker does."""
    consumer = Consumer(
        {"bootstrap.servers": settings.kafka_bootstrap, "group.id": settings.app_id}
    )
    try:
        topic = settings.topic("raw")
        wanted = [TopicPartition(topic, p, offset) for p, offset in offsets.items()]
        consumer.commit(offsets=wanted, asynchronous=False)
    finally:
        consumer.close()


@pytest.fixture(scope="module")
def settings(kafka_broker: ApacheKafka) -> Settings:
    """A raw topic of two partitions: 5 uplinks in 0 (published at T0 + 0..4 min), 3 in 1."""
    run = uuid.uuid4().hex[:8]
    settings = Settings.model_validate(
        {
            "kafka_bootstrap": kafka_broker.bootstrap,
            "topic_prefix": f"lag-{run}",
            "app_id": f"smati-lag-{run}",
            "topic_partitions": 2,
        }
    )
    ensure_topics(settings)
    producer = Producer({"bootstrap.servers": settings.kafka_bootstrap})
    for partition, count in ((0, 5), (1, 3)):
        for n in range(count):
            published = T0 + timedelta(minutes=10 * partition + n)
            producer.produce(
                settings.topic("raw"),
                b"{}",
                partition=partition,
                timestamp=int(published.timestamp() * 1000),
            )
    assert producer.flush(30) == 0
    return settings


def test_lag_per_partition_and_the_horizon_of_the_oldest_uplink_waiting(
    settings: Settings,
) -> None:
    commit(settings, {0: 2, 1: 3})
    result = smati(settings, "lag", "--json")
    assert result.exit_code == 0, result.output
    *partitions, horizon = (json.loads(line) for line in result.output.splitlines())
    raw = settings.topic("raw")
    assert partitions == [
        {"topic": raw, "partition": 0, "end": 5, "committed": 2, "lag": 3},
        {"topic": raw, "partition": 1, "end": 3, "committed": 3, "lag": 0},
    ]
    assert horizon["horizon"] == (T0 + timedelta(minutes=2)).isoformat()
    assert horizon["horizon_lag_s"] > 0

    shown = smati(settings, "lag")
    assert shown.exit_code == 0, shown.output
    assert f"{raw}  0          5    2          3" in shown.output
    assert "total lag 3; processing horizon 2026-11-25 10:02:00 UTC" in shown.output


def test_caught_up_when_every_uplink_is_committed(settings: Settings) -> None:
    commit(settings, {0: 5, 1: 3})
    shown = smati(settings, "lag")
    assert shown.exit_code == 0, shown.output
    assert "total lag 0; processing horizon" in shown.output
    assert "(caught up)" in shown.output


def test_an_unreachable_kafka_is_one_line(settings: Settings) -> None:
    unreachable = settings.model_copy(update={"kafka_bootstrap": "127.0.0.1:1"})
    result = smati(unreachable, "lag")
    assert result.exit_code == 1
    assert result.output.startswith("Error: Kafka at 127.0.0.1:1:")
    assert len(result.output.strip().splitlines()) == 1
