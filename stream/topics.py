"""The Kafka topics of the pipeline, created before any process uses them."""

from __future__ import annotations

import logging

from confluent_kafka.admin import AdminClient, NewTopic

from models.settings import Settings

log = logging.getLogger(__name__)

STAGES = ("raw", "readings", "events", "dead-letter")


def ensure_topics(settings: Settings, timeout_s: float = 30.0) -> list[str]:
    """Create the missing pipeline topics; returns the names created."""
    admin = AdminClient({"bootstrap.servers": settings.kafka_bootstrap})
    existing = set(admin.list_topics(timeout=timeout_s).topics)
    missing = [settings.topic(stage) for stage in STAGES if settings.topic(stage) not in existing]
    if not missing:
        return []
    futures = admin.create_topics(
        [NewTopic(name, num_partitions=settings.topic_partitions) for name in missing],
        operation_timeout=timeout_s,
    )
    for future in futures.values():
        try:
            future.result(timeout=timeout_s)
        except Exception as error:  # a concurrent creator won the race: that is fine
            if "TOPIC_ALREADY_EXISTS" not in str(error):
                raise
    log.info("created topics %s", ", ".join(missing))
    return missing
