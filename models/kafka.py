"""Producing to Kafka while librdkafka's local queue may be full: client glue, no domain.

It lives in models/ only because that is the one package both the connectors and the
stream may import. `produce` waits for room in the calling thread (a connector's MQTT
callbacks, a benchmark's loader); `produce_soon` is the same for an event loop, which it
never blocks: it waits in a worker thread, and only when the queue is full.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from typing import Any

from confluent_kafka import KafkaError, Message, Producer

Delivered = Callable[[KafkaError | None, Message], None]


class _ThrottledByFacility(logging.Filter):
    """Marks librdkafka's records for the log set-up's throttling, one key per facility
    (`FAIL`, `GETPID`...): a broker down makes it say the same thing at every reconnect."""

    def filter(self, record: logging.LogRecord) -> bool:
        facility = record.args[0] if isinstance(record.args, tuple) and record.args else ""
        record.throttle = f"librdkafka:{facility}"
        return True


LIBRDKAFKA_LOG = logging.getLogger("librdkafka")
LIBRDKAFKA_LOG.addFilter(_ThrottledByFacility())


def client_config(bootstrap: str, settings: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The configuration of a librdkafka client of `bootstrap`: its log lines go through
    Python's logging (logger `librdkafka`, served when the client is polled), not straight
    to stderr, where they broke the JSON lines and flooded while Kafka was down."""
    return {"bootstrap.servers": bootstrap, "logger": LIBRDKAFKA_LOG, **(settings or {})}


def produce(
    producer: Producer,
    topic: str,
    value: bytes,
    key: str | bytes,
    on_delivery: Delivered | None = None,
    *,
    stopping: Callable[[], bool] = lambda: False,
    poll_s: float = 0.1,
) -> bool:
    """Produce one record, serving delivery reports while the queue is full (so that it
    drains); False if `stopping()` turned true before there was room. Blocking."""
    while True:
        try:
            producer.produce(topic, value, key, **_reporting_to(on_delivery))
            return True
        except BufferError:
            if stopping():
                return False
            producer.poll(poll_s)


async def produce_soon(
    producer: Producer,
    topic: str,
    value: bytes,
    key: str | bytes,
    on_delivery: Delivered | None = None,
) -> None:
    """`produce` from an event loop: at once while there is room, else in a thread."""
    try:
        producer.produce(topic, value, key, **_reporting_to(on_delivery))
    except BufferError:
        await asyncio.to_thread(produce, producer, topic, value, key, on_delivery)


def _reporting_to(on_delivery: Delivered | None) -> dict[str, Any]:
    """The record's own delivery callback, if any (else the producer's, from its config)."""
    return {} if on_delivery is None else {"on_delivery": on_delivery}
