"""Sending refused messages to the dead-letter topic, with their reason and original bytes."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import faust

from models.dead_letter import DeadLetter, Rejection
from stream.metrics import DEAD_LETTERS

log = logging.getLogger(__name__)


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
