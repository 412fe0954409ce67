"""What the worker publishes to Kafka: checked readings, detection events, alarm changes,
dead letters.

One librdkafka producer (confluent-kafka): a message costs a few microseconds, against
tens for Faust's own producer, and the worker publishes about one message per reading.
Messages are buffered; `publish` ends with a flush, which waits until Kafka has them all
(acks=all), before the batch's offsets may be committed, so nothing acknowledged is lost.
A Kafka that does not take them is an outage (stream.outage) until it does.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from confluent_kafka import KafkaError, Message, Producer

from models.alarms import AlarmChange
from models.dead_letter import DeadLetter
from models.detection import DetectionEvent, DetectionKind
from models.errors import SmatiError
from models.kafka import client_config, produce_soon
from models.reading import Reading
from models.settings import Settings
from stream.metrics import DETECTIONS
from stream.outage import Outage

log = logging.getLogger(__name__)
FLUSH_WAIT_S = 5.0
"""How long Kafka may take the messages of a batch before the worker pauses its intake."""


class PublishError(SmatiError, RuntimeError):
    """Kafka refused or timed out messages (after librdkafka's own retries)."""


class Outputs:
    def __init__(self, settings: Settings, outage: Outage) -> None:
        self._readings = settings.topic("readings")
        self._events = settings.topic("events")
        self._alarms = settings.topic("alarms")
        self._dead_letters = settings.topic("dead-letter")
        self._outage = outage
        self._failures: list[KafkaError] = []
        self._detections = {kind: DETECTIONS.labels(kind=kind) for kind in DetectionKind}
        """Each kind's counter, looked up once (not for each event)."""
        self._producer = Producer(
            client_config(
                settings.kafka_bootstrap,
                {
                    "acks": "all",
                    "enable.idempotence": True,
                    "linger.ms": 5,
                    "delivery.report.only.error": True,  # no Python call per delivered message
                    "on_delivery": self._delivered,
                },
            )
        )

    async def publish(
        self,
        readings: Sequence[Reading],
        detections: Sequence[DetectionEvent],
        dead_letters: Sequence[DeadLetter],
        alarms: Sequence[AlarmChange] = (),
    ) -> None:
        """Publish a batch's outputs and wait until Kafka holds them; raise if it refused one."""
        for reading in readings:
            await produce_soon(self._producer, self._readings, reading.to_json(), reading.usage_id)
        for event in detections:
            self._detections[event.kind].inc()
            await produce_soon(self._producer, self._events, event.to_json(), event.usage_id)
        for change in alarms:  # keyed by usage: a usage's changes stay in order
            usage_id = change.alarm.usage_id
            await produce_soon(self._producer, self._alarms, change.to_json(), usage_id)
        for letter in dead_letters:
            key = letter.device_id or letter.origin
            await produce_soon(self._producer, self._dead_letters, letter.to_json(), key)
        await self.flush()

    async def flush(self) -> None:
        """Wait until Kafka holds every message published so far; raise if one failed."""
        while await asyncio.to_thread(self._producer.flush, FLUSH_WAIT_S):
            self._outage.report_down("kafka", f"messages not taken in {FLUSH_WAIT_S} s")
        self._outage.report_up("kafka")
        if self._failures:
            failures, self._failures = self._failures, []
            raise PublishError(f"{len(failures)} messages not published, first: {failures[0]}")

    def _delivered(self, error: KafkaError | None, message: Message) -> None:
        if error is not None:
            self._failures.append(error)

    def close(self) -> None:
        self._producer.flush(10.0)
