"""What the worker publishes to Kafka: checked readings, detection events, dead letters.

One librdkafka producer (confluent-kafka): a message costs a few microseconds, against
tens for Faust's own producer, and the worker publishes about one message per reading.
Messages are buffered; `flush` waits until Kafka has them all (acks=all) and is called
before a batch's offsets may be committed, so nothing acknowledged is lost.
"""

from __future__ import annotations

import asyncio
import logging

from confluent_kafka import KafkaError, Message, Producer

from models.dead_letter import DeadLetter
from models.detection import DetectionEvent, DetectionKind
from models.errors import SmatiError
from models.reading import Reading
from models.settings import Settings
from stream.metrics import DEAD_LETTERS, DETECTIONS

log = logging.getLogger(__name__)


class PublishError(SmatiError, RuntimeError):
    """Kafka refused or timed out messages (after librdkafka's own retries)."""


class Outputs:
    def __init__(self, settings: Settings) -> None:
        self._readings = settings.topic("readings")
        self._events = settings.topic("events")
        self._dead_letters = settings.topic("dead-letter")
        self._failures: list[KafkaError] = []
        self._detections = {kind: DETECTIONS.labels(kind=kind) for kind in DetectionKind}
        """Each kind's counter, looked up once (not for each event)."""
        self._producer = Producer(
            {
                "bootstrap.servers": settings.kafka_bootstrap,
                "acks": "all",
                "enable.idempotence": True,
                "linger.ms": 5,
                "delivery.report.only.error": True,  # no Python call per delivered message
                "on_delivery": self._delivered,
            }
        )

    def reading(self, reading: Reading) -> None:
        self._publish(self._readings, reading.usage_id, reading.to_json())

    def detection(self, event: DetectionEvent) -> None:
        self._detections[event.kind].inc()
        self._publish(self._events, event.usage_id, event.to_json())

    def dead_letter(self, letter: DeadLetter) -> None:
        log.warning("dead letter (%s) %s: %s", letter.stage, letter.code, letter.reason)
        DEAD_LETTERS.labels(stage=letter.stage, code=letter.code).inc()
        self._publish(self._dead_letters, letter.device_id or letter.origin, letter.to_json())

    def _publish(self, topic: str, key: str, value: bytes) -> None:
        while True:
            try:
                self._producer.produce(topic, value, key)
                return
            except BufferError:  # the local queue is full: let deliveries drain it
                self._producer.poll(0.05)

    async def flush(self) -> None:
        """Wait until Kafka holds every message published so far; raise if one failed."""
        await asyncio.to_thread(self._flush_all)
        if self._failures:
            failures, self._failures = self._failures, []
            raise PublishError(f"{len(failures)} messages not published, first: {failures[0]}")

    def _flush_all(self) -> None:
        while self._producer.flush(5.0):
            log.warning("Kafka slow to take published messages; still waiting")

    def _delivered(self, error: KafkaError | None, message: Message) -> None:
        if error is not None:
            self._failures.append(error)

    def close(self) -> None:
        self._producer.flush(10.0)
