"""Producing to Kafka from asyncio and awaiting the broker's confirmation of each record.

librdkafka calls delivery callbacks from `poll()`; a thread polls, and each callback
settles the future its coroutine awaits. So an HTTP handler answers only once Kafka has
the record, and a refused record becomes an exception instead of a silent loss.
"""

from __future__ import annotations

import asyncio
import threading

from confluent_kafka import KafkaError, Message, Producer

from connectors.status import kafka_reachable
from models.errors import SmatiError
from models.kafka import produce_soon
from models.metrics import KAFKA_PRODUCE_ERRORS


class DeliveryFailed(SmatiError, RuntimeError):
    """Kafka did not confirm the record (broker down past the timeout, topic missing...)."""


class KafkaDelivery:
    def __init__(self, producer: Producer) -> None:
        self._producer = producer
        self._stopping = threading.Event()
        self._poller = threading.Thread(target=self._poll, name="kafka-delivery", daemon=True)
        self._poller.start()

    async def send(self, topic: str, key: str, value: bytes) -> None:
        """Produce one record and return once Kafka confirmed it; DeliveryFailed if not."""
        loop = asyncio.get_running_loop()
        confirmed: asyncio.Future[None] = loop.create_future()

        def delivered(error: KafkaError | None, _: Message) -> None:
            if error is not None:
                KAFKA_PRODUCE_ERRORS.labels(topic=topic).inc()
            loop.call_soon_threadsafe(_settle, confirmed, error)

        await produce_soon(self._producer, topic, value, key.encode(), delivered)
        await confirmed

    def reaches_kafka(self) -> bool:
        """Whether the producer reaches the cluster: the health of the edge that sends."""
        return kafka_reachable(self._producer)

    def close(self, timeout_s: float = 30.0) -> None:
        self._stopping.set()
        self._poller.join()
        self._producer.flush(timeout_s)

    def _poll(self) -> None:
        while not self._stopping.is_set():
            self._producer.poll(0.1)


def _settle(confirmed: asyncio.Future[None], error: KafkaError | None) -> None:
    if confirmed.done():
        return
    if error is None:
        confirmed.set_result(None)
    else:
        confirmed.set_exception(DeliveryFailed(str(error)))
