"""Sending refused messages to the dead-letter topic, with their reason and original bytes."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import faust
from faust.types import EventT

from models.dead_letter import DeadLetter, RejectCode, Rejection
from models.detection import DetectionEvent
from models.radio_health import RadioRecord
from models.reading import Reading
from stream.metrics import DEAD_LETTERS

log = logging.getLogger(__name__)


def origin_of(event: EventT) -> str:
    """Where a message sits in Kafka: a replay of it is recognised downstream by this."""
    message = event.message
    return f"{message.topic}/{message.partition}/{message.offset}"


def original_bytes(event: EventT) -> bytes:
    return event.value if isinstance(event.value, bytes) else b""


async def handle_or_dead_letter(
    event: EventT,
    handle: Callable[[bytes, str], Awaitable[None]],
    dead_letters: faust.TopicT,
    stage: str,
) -> None:
    """`handle(value, origin)`; an unexpected error dead-letters the message, not the worker."""
    original, origin = original_bytes(event), origin_of(event)
    try:
        await handle(original, origin)
    except Exception as error:
        log.exception("%s of %s failed", stage, origin)
        rejection = Rejection(code=RejectCode.PROCESSING_ERROR, reason=repr(error))
        await send_dead_letter(
            dead_letters, rejection, stage=stage, origin=origin, original=original
        )


async def send_dead_letter(
    topic: faust.TopicT,
    rejection: Rejection,
    *,
    stage: str,
    origin: str,
    original: bytes,
    device_id: str | None = None,
) -> None:
    letter = DeadLetter(
        code=rejection.code,
        reason=rejection.reason,
        stage=stage,
        origin=origin,
        device_id=device_id,
        channel=rejection.channel,
        usage_id=rejection.usage_id,
        failed_at=datetime.now(UTC),
        original=original,
    )
    log.warning("dead letter (%s) %s: %s", stage, rejection.code, rejection.reason)
    DEAD_LETTERS.labels(stage=stage, code=rejection.code).inc()
    await topic.send(key=(device_id or origin).encode(), value=letter.to_json())


async def dead_letter_row(
    topic: faust.TopicT,
    row: Reading | DetectionEvent | RadioRecord,
    rejection: Rejection,
    stage: str,
) -> None:
    """Dead-letter a decoded row (its JSON is the original) under the origin it came from."""
    origin = row.origin if isinstance(row, Reading | RadioRecord) else f"event/{row.id}"
    device_id = row.device_id if isinstance(row, Reading | RadioRecord) else None
    await send_dead_letter(
        topic, rejection, stage=stage, origin=origin, original=row.to_json(), device_id=device_id
    )
